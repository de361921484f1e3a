"""One job runner for long and recurring work: ingest, training, re-scoring (and later
federation pulls and notification retries), never ad hoc threads.

Design:

- ``job_run`` (:mod:`scheldt.jobs.runs`) is the record users see: kind, parameters, who asked,
  status (queued → running → done | failed), progress 0..1 with a message, the JSON result or
  the error ("where: why"). Every change of state is committed on its own, so the CLI's
  progress bar and the API read it while the job runs.
- :class:`~scheldt.jobs.runner.JobRunner` runs the work in-process on APScheduler 3
  (BackgroundScheduler, a thread pool of ``SCHELDT_JOB_WORKERS`` threads, 1 by default) with
  its job store in the store's own database (SQLite embedded, PostgreSQL in production), so
  queued runs and recurring schedules survive a restart. One runner per database: it holds a
  lock, marks runs a stop interrupted as failed when it starts, and picks up runs queued by
  processes without a runner.
- :mod:`scheldt.jobs.kinds` maps each kind to the workflow it calls (the same ones the
  commands call) and checks its parameters.

The API server starts a runner in its lifespan and submits to it; ``scheldt jobs run`` runs
one in-process (or, when the server's runner holds the database, submits to that one).
"""
