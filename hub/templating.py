"""Jinja2 templates for texts, owner notifications and emails.

Lookup order for a template name such as ``sms/text_back.txt``:

1. the business's own override in hub.yaml (``templates: {text_back: "..."}``, keyed by the
   file's stem), for the texts a business words itself;
2. the deployment's template directory (``templates:`` at the top of hub.yaml);
3. the defaults shipped in ``templates/``.

Undefined variables are errors, so a typo in a template fails ``hub check`` rather than
texting a customer a blank. HTML templates autoescape: customer texts are untrusted input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from hub.config import Business, HubConfig

OPT_OUT_LINE = "Reply STOP to opt out."


def builtin_template_dir() -> Path:
    """``templates/`` from a source checkout, or its copy inside an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("the hub's templates/ directory is missing from this installation")


class Templates:
    def __init__(self, config: HubConfig) -> None:
        search: list[str] = []
        if config.templates:
            directory = Path(config.templates)
            search.append(
                str(directory if directory.is_absolute() else config.base_dir / directory)
            )
        search.append(str(builtin_template_dir()))
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(search),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["local"] = _local_time

    def get(self, name: str, business: Business | None = None) -> jinja2.Template:
        stem = Path(name).name.split(".", 1)[0]
        if business is not None and stem in business.templates:
            return self.env.from_string(business.templates[stem])
        return self.env.get_template(name)

    def render(self, name: str, /, business: Business | None = None, **context: Any) -> str:
        """Render ``name`` (``business`` picks its overrides and is passed to the template)."""
        return self.get(name, business).render(business=business, **context).strip()


def with_opt_out_line(body: str) -> str:
    """Make sure the text tells the customer how to stop texts."""
    return body if "STOP" in body.upper() else f"{body} {OPT_OUT_LINE}"


def _local_time(value: Any, business: Business, fmt: str = "%a %b %-d, %-I:%M %p") -> str:
    if value is None:
        return ""
    return str(business.local_time(value).strftime(fmt))
