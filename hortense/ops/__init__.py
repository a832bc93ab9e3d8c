"""Operations: process logging, plain text or JSON lines (`logging_setup`), Prometheus metrics (`metrics`), and
the one process launcher that starts Rasa, the action server, the web app and the scheduler for `make run`, the
tests, the benchmark and the multi-instance layout (`launcher`, `cluster`)."""
