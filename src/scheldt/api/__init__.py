"""The REST API (FastAPI): thin routes over the workflows; auth, audit and errors in one place.

``create_app()`` builds the application; ``scheldt serve`` runs it with uvicorn. Every route
takes a :class:`~scheldt.api.deps.Ctx` (unit of work, principal, clock, audit) and returns
plain JSON; every error has one shape, ``{"error": {"status", "where", "why"}}``.
"""
