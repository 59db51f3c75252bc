"""What a template's source says, read through Jinja's own parser."""

from __future__ import annotations

from flask import Flask
from jinja2 import nodes


def unpacked_names(app: Flask, template: str, iterable: str) -> list[str]:
    """The names `{% for a, b, ... in <iterable> %}` unpacks each item into, in their order."""
    env = app.jinja_env
    assert env.loader is not None
    source = env.loader.get_source(env, template)[0]
    for loop in env.parse(source).find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and loop.iter.name == iterable:
            assert isinstance(loop.target, nodes.Tuple), f"{template}: {iterable} is not unpacked"
            return [name.name for name in loop.target.items if isinstance(name, nodes.Name)]
    raise AssertionError(f"{template} has no loop over {iterable}")
