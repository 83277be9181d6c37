"""`matchdesk init`, `serve` and `worker`: the database, the web app and the worker."""

from __future__ import annotations

from typing import Annotated

import typer

from matchdesk.cli.support import _app, out


def init() -> None:
    """Create the database, or migrate it to the newest schema."""
    from matchdesk.migrate import upgrade
    from matchdesk.roster.tiers import ensure_tiers_current

    md = _app()
    upgrade(md.engine)
    with md.transaction() as session:
        ensure_tiers_current(session, md.program)
    out.print(f"Database ready: {md.engine.url.render_as_string(hide_password=True)}")


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker/--no-worker",
            help="Also deliver messages and run jobs in this process (on by default, so one "
            "command runs everything; turn it off when `matchdesk worker` runs separately).",
        ),
    ] = True,
) -> None:
    """Serve the web app."""
    import gc
    import threading

    import uvicorn

    from matchdesk.jobs.catalog import default_registry
    from matchdesk.roster.tiers import ensure_tiers_current
    from matchdesk.web.app import create_app
    from matchdesk.worker import run_worker

    md = _app()
    with md.transaction() as session:
        ensure_tiers_current(session, md.program)
    host, port = host or md.settings.host, port or md.settings.port
    # What the command line says wins, for links made without a page too (the worker's).
    md.settings.host, md.settings.port = host, port
    stop = threading.Event()
    if with_worker:
        threading.Thread(
            target=run_worker,
            kwargs={"md": md, "registry": default_registry(), "stop": stop},
            name="matchdesk-worker",
            daemon=True,
        ).start()
    if workers > 1:  # each worker builds its own app from the same environment
        md.settings.signing_key()  # made once here, before the workers race to create it
        uvicorn.run(
            "matchdesk.web.factory:app", factory=True, host=host, port=port, workers=workers
        )
    else:
        app = create_app(md, warm_reports=True)
        # What start-up made (modules, engine, templates: some 360,000 objects) is never
        # garbage: frozen out of the collector, a full collection no longer walks it in
        # the middle of a request (0.4-1 s on a busy 2-core machine).
        gc.collect()
        gc.freeze()
        uvicorn.run(app, host=host, port=port)
    stop.set()


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due and run queued jobs, then exit.")
    ] = False,
    worker_id: Annotated[
        str | None, typer.Option(help="A fixed id, so a restarted worker takes back its claims.")
    ] = None,
) -> None:
    """Deliver outgoing messages and run background jobs until stopped (Ctrl-C)."""
    from matchdesk.jobs.catalog import default_registry
    from matchdesk.worker import run_worker

    md = _app()
    out.print("Worker started; Ctrl-C stops it after the current message or job.")
    run_worker(md, once=once, worker_id=worker_id, registry=default_registry())
