"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi run`.

Start-up makes ~115,000 objects that live as long as the worker (modules, mapped classes, routes)
and almost no garbage (~540 unreachable objects, ~0.1 MB). The cyclic garbage collector would scan
them again and again while they are made (~230 collections, ~100-150 ms of a 0.65 s import on the
bench machine, issue 17), so it is off until the app is built; then `gc.freeze()` moves everything
made so far out of its reach, so no later collection (and not the first request's) walks them
again. Collection works as before for everything a request makes."""

import gc

gc.disable()
try:
    from portal import create_app

    app = create_app()
finally:
    gc.enable()
gc.freeze()
