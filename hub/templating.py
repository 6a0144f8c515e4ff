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

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from hub.config import Business, HubConfig
from hub.languages import LANGUAGES
from hub.segments import count_segments
from hub.types import Notification
from hub.views import CallView, LeadView

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
        stem = override_key(name)
        if business is not None and stem in business.templates:
            return self._compiled(business.templates[stem])
        return self.env.get_template(name)

    @functools.lru_cache(maxsize=1024)  # noqa: B019  # one per hub; overrides are few and small
    def _compiled(self, source: str) -> jinja2.Template:
        """A business's own template, compiled once however many texts use it."""
        return self.env.from_string(source)

    def render(self, name: str, /, business: Business | None = None, **context: Any) -> str:
        """Render ``name`` (``business`` picks its overrides and is passed to the template)."""
        return self.get(name, business).render(business=business, **context).strip()


#: The opt-out line in each language the hub texts in. STOP works in every language.
OPT_OUT_LINES = {"en": OPT_OUT_LINE, "es": "Responda STOP para cancelar."}


def with_opt_out_line(body: str, language: str = "en") -> str:
    """Make sure the text tells the customer how to stop texts (in their language)."""
    if "STOP" in body.upper():
        return body
    return f"{body} {OPT_OUT_LINES.get(language, OPT_OUT_LINE)}"


@functools.cache
def override_key(name: str) -> str:
    """The key of a business's override of template ``name`` in hub.yaml: the file's stem
    ("follow_up"), after its language for a translation ("es/follow_up")."""
    path = Path(name)
    stem = path.name.split(".", 1)[0]
    return f"{path.parent.name}/{stem}" if path.parent.name in LANGUAGES else stem


def text_language(business: Business, language: str | None) -> str:
    """The language to text a caller in: theirs if the business speaks it, else the
    business's first."""
    return language if language in business.languages else business.languages[0]


def sms_template(template: str, business: Business, language: str | None) -> str:
    """The file of SMS template ``template`` ("follow_up") in the caller's language:
    ``sms/follow_up.txt`` in English, ``sms/es/follow_up.txt`` in Spanish."""
    chosen = text_language(business, language)
    return f"sms/{template}.txt" if chosen == "en" else f"sms/{chosen}/{template}.txt"


def _local_time(value: Any, business: Business, fmt: str = "%a %b %-d, %-I:%M %p") -> str:
    if value is None:
        return ""
    return str(business.local_time(value).strftime(fmt))


# -- the one template context ------------------------------------------------------------------

#: What each template is rendered with besides ``business`` and ``lead`` (a ``LeadView``), at
#: send time and in ``hub check`` alike. ``notify/*`` templates all get the notify variables.
TEMPLATE_VARIABLES: dict[str, tuple[str, ...]] = {
    # ``missing``: what the text-back still has to ask for ("service", "zip"); a voicemail
    # transcript read before the text-back went may have answered some of it.
    "sms/text_back.txt": ("call", "missing"),
    "sms/text_back_after_hours.txt": ("call", "missing"),
    "sms/follow_up.txt": ("missing",),
    "sms/staff_reply.txt": ("text",),
    "sms/owner_notify.txt": ("kind", "url"),
    "email/lead.html": ("notification",),
}
NOTIFY_VARIABLES = ("urgent", "texted", "reason", "url")


def template_variables(name: str) -> tuple[str, ...]:
    if name.startswith("notify/"):
        return NOTIFY_VARIABLES
    path = Path(name)
    if path.parent.name in LANGUAGES:  # a translation renders with its original's variables
        name = str(path.parent.parent / path.name)
    return TEMPLATE_VARIABLES.get(name, ())


def template_context(name: str, lead: LeadView, **values: Any) -> dict[str, Any]:
    """The context template ``name`` renders with: the lead's view and exactly the variables
    that template is given (``TEMPLATE_VARIABLES``); anything else is a bug in the caller."""
    wanted = template_variables(name)
    if set(values) != set(wanted):
        raise TypeError(f"{name} renders with {sorted(wanted)}, not {sorted(values)}")
    return {"lead": lead, **values}


# -- checking templates (hub check) ---------------------------------------------------------------

#: Texts to customers and owners, by template name, and whether the opt-out line may be added
#: (the first text of a conversation gets it).
SMS_TEMPLATES = {
    "sms/text_back.txt": True,
    "sms/text_back_after_hours.txt": True,
    "sms/follow_up.txt": True,
    "sms/nudge.txt": True,
    "sms/help.txt": False,
    "sms/opt_out_confirmation.txt": False,
    "sms/opt_in_confirmation.txt": False,
    "sms/owner_alert.txt": False,
    "sms/owner_notify.txt": False,
    "sms/staff_reply.txt": True,
    "sms/form_thanks.txt": True,
}
NOTIFY_TEMPLATES = (
    "notify/new_lead.txt",
    "notify/summary.txt",
    "notify/reply.txt",
    "notify/urgent.txt",
    "notify/reminder.txt",
    "notify/cannot_text.txt",
    "notify/problem.txt",
    "email/lead.html",
)
MAX_SEGMENTS = 2
#: Texts to customers: each has a translation per language (``sms/es/help.txt``).
CUSTOMER_TEMPLATES = tuple(
    name for name in SMS_TEMPLATES if name not in ("sms/owner_alert.txt", "sms/owner_notify.txt")
)


@dataclass(frozen=True, slots=True)
class TemplateIssue:
    where: str
    message: str
    warning: bool = False


def check_templates(
    templates: Templates, business: Business, checked: set[tuple[str, str | None]] | None = None
) -> list[TemplateIssue]:
    """Render every template for ``business`` with sample data, in the context it gets when
    sent (``template_context``): syntax errors and unknown variables are errors; a text longer
    than two SMS segments is a warning.

    ``checked`` (shared across the businesses of one hub) skips a notification template whose
    source was already rendered without a problem: only texts depend on the business (their
    length does), so an agency's thousands of businesses are not each rendered in full."""
    issues = []
    samples = sample_values(business)
    translations = [
        (f"sms/{language}/{Path(name).name}", name, language)
        for language in business.languages
        if language != "en"
        for name in CUSTOMER_TEMPLATES
    ]
    everything = [(name, name, "en") for name in (*SMS_TEMPLATES, *NOTIFY_TEMPLATES)]
    for name, original, language in [*everything, *translations]:
        stem = override_key(name)
        override = business.templates.get(stem)
        source = (name, override)
        if checked is not None and original not in SMS_TEMPLATES and source in checked:
            continue
        where = f"businesses.{business.slug}.templates.{stem}" if override is not None else name
        context = template_context(
            original, samples["lead"], **{key: samples[key] for key in template_variables(original)}
        )
        try:
            text = templates.render(name, business, **context)
        except jinja2.TemplateNotFound:
            issues.append(TemplateIssue(where, f"missing: the business texts in {language!r}"))
            continue
        except jinja2.TemplateSyntaxError as exc:
            issues.append(TemplateIssue(where, f"syntax error on line {exc.lineno}: {exc.message}"))
            continue
        except jinja2.UndefinedError as exc:
            issues.append(TemplateIssue(where, f"unknown variable: {exc.message}"))
            continue
        except jinja2.TemplateError as exc:
            issues.append(TemplateIssue(where, f"cannot render: {exc}"))
            continue
        if checked is not None:
            checked.add(source)
        if original in SMS_TEMPLATES:
            body = with_opt_out_line(text, language) if SMS_TEMPLATES[original] else text
            segments = count_segments(body)
            if segments.count > MAX_SEGMENTS:
                why = f" because of {segments.non_gsm!r}" if segments.non_gsm else ""
                issues.append(
                    TemplateIssue(
                        where,
                        f"renders to {segments.count} SMS segments: {segments.units} characters "
                        f"in {segments.encoding}{why}; keep it to {MAX_SEGMENTS}",
                        warning=True,
                    )
                )
    return issues


def sample_values(business: Business) -> dict[str, Any]:
    """Sample values of every template variable, of the types the hub renders with."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    lead = LeadView(
        id=42, business=business.slug, business_name=business.name, status="new",
        caller="+15125550123", call_count=2, first_call_at=now, last_call_at=now,
        outcome="missed", after_hours=False, name="Maria Lopez", service="water heater",
        zip="78704", urgency="soon", callback_start=now, callback_end=now,
        customer_words=("Water heater is leaking, 78704. This is Maria",),
        voicemail_url="https://example.com/voicemail.mp3", version=3,
        created_at=now, updated_at=now,
    )  # fmt: skip
    call = CallView(
        id=7, business=business.slug, called=business.numbers[0], after_hours=False,
        outcome="missed", caller=lead.caller, provider="generic", provider_call_id="c-7", at=now,
    )  # fmt: skip
    return {
        "lead": lead,
        "call": call,
        "missing": ["zip"],
        "text": "We can come at 3",
        "kind": "summary",
        "urgent": False,
        "url": None,
        "texted": True,
        "reason": None,
        "notification": Notification("summary", lead, "New lead", "body"),
    }
