"""The mechanism people run around the sensing (issue 19): allegations and
cases with deadlines, tasking of monitors and sensors, the parties' right of
reply, obstruction and sensor-health findings, weapons holding sites,
pre-notified activity, corrections, and spot and weekly reports.

- :mod:`.core`: the case state machine, deadlines, the mission config, clocks;
- :mod:`.checks`: pure checks (place, coverage, inventories, outages, windows);
- :mod:`.mission`: the operations the API calls (:class:`Mechanism`);
- :mod:`.evidence`: the one place allegations enter the evidence log;
- :mod:`.reports`: spot, weekly and daily-report sections, per role.

No SQL here: the tables and queries are in trucewatch.store.mechanism.
See docs/workflow.md.
"""
