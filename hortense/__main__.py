from hortense.cli import main

raise SystemExit(main())
