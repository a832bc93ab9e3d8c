"""Phone appointments with a Hortense advisor: proposing, booking, moving and cancelling calls and what advisors
see (`booking`), advisors' accounts, hours and absences (`advisors`), stored confirmations and reminders and
their delivery (`notifications`), the one scheduler process that sends them and runs the monthly jobs
(`scheduler`), an advisor's calls as an iCalendar feed (`icalendar_feed`), and the calendar rules: slots,
holidays and French date phrases (`calendar`)."""
