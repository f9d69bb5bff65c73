"""The comms config section: `comms`, how an organisation's notices go out.

One mapping per organisation: `mail` (the backup account; its password as `env:NAME`, the
environment variable read when mail is sent — a password stored sealed from the web is
never exported), `routes` (how customers reach the business now, and which systems its
usual email and phone depend on, by slug), `sending` (the affected-customers window,
rates, the stall alarm), `drill_recipients`, `key_accounts` (a complete list: one not
listed is removed), `templates` (only those listed are changed) and `status_page` (its
title and addresses, where it is published — the bucket's keys as `env:NAME` — and its
`components`, a complete ordered list of systems by slug with their public names). A
setting left out is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from fallback.comms import audiences, defaults, preferences, rendering, statuspage
from fallback.comms.models import (
    CommsSettings,
    KeyAccount,
    MessageTemplate,
    Phase,
    SmtpSecurity,
    StatusPage,
)
from fallback.configfile.context import ApplyContext
from fallback.configfile.errors import SectionError
from fallback.configfile.fields import ENV_PREFIX, EnvReference, Slug, Text, env_name
from fallback.configfile.registry import Problem, Section, listed_slugs, register
from fallback.monitor.models import System

COMMS = "comms"
SYSTEMS = "systems"
Rate = Annotated[float, Field(gt=0, le=preferences.MAX_RATE)]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MailSpec(Spec):
    host: StrictStr | None = None
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    security: SmtpSecurity | None = None
    username: StrictStr | None = None
    password: EnvReference | None = None
    from_address: StrictStr | None = None
    from_name: StrictStr | None = None
    reply_to: StrictStr | None = None


class RoutesSpec(Spec):
    phone_numbers: list[Text] | None = None
    backup_email: StrictStr | None = None
    status_url: StrictStr | None = None
    usual_email: StrictStr | None = None
    usual_phone: StrictStr | None = None
    email_systems: list[Slug] | None = None
    phone_systems: list[Slug] | None = None


class SendingSpec(Spec):
    affected_window_days: Annotated[StrictInt, Field(ge=0, le=3650)] | None = None
    email_per_second: Rate | None = None
    sms_per_second: Rate | None = None
    chat_per_second: Rate | None = None
    stall_minutes: Annotated[StrictInt, Field(ge=1, le=1440)] | None = None


class KeyAccountSpec(Spec):
    customer: Annotated[Text, Field(max_length=200)] = Field(description="The replica key")
    name: StrictStr | None = None
    call_dont_email: StrictBool | None = None
    phone: StrictStr | None = None
    contact: StrictStr | None = None
    note: StrictStr | None = None


class TemplateSpec(Spec):
    audience: Text
    phase: Phase
    subject: Annotated[Text, Field(max_length=200)] | None = None
    notify: StrictStr | None = None
    explain: StrictStr | None = None
    solve: StrictStr | None = None
    predict: StrictStr | None = None
    apologise: StrictStr | None = None


class S3Spec(Spec):
    endpoint: StrictStr | None = None
    bucket: StrictStr | None = None
    prefix: StrictStr | None = None
    region: StrictStr | None = None
    access_key: EnvReference | None = None
    secret_key: EnvReference | None = None


class ComponentSpec(Spec):
    system: Slug
    name: Annotated[Text, Field(max_length=120)] | None = None
    description: StrictStr | None = None


class StatusPageSpec(Spec):
    title: StrictStr | None = None
    public_url: StrictStr | None = None
    fallback_url: StrictStr | None = None
    allow_subscribers: StrictBool | None = None
    history_days: Annotated[StrictInt, Field(ge=1, le=365)] | None = None
    folder: StrictStr | None = None
    s3: S3Spec | None = None
    components: list[ComponentSpec] | None = None


class CommsSpec(Spec):
    mail: MailSpec | None = None
    routes: RoutesSpec | None = None
    sending: SendingSpec | None = None
    drill_recipients: list[Text] | None = None
    key_accounts: list[KeyAccountSpec] | None = None
    templates: list[TemplateSpec] | None = None
    status_page: StatusPageSpec | None = None


MAIL_FIELDS = {
    "host": "smtp_host",
    "port": "smtp_port",
    "security": "smtp_security",
    "username": "smtp_username",
    "from_address": "from_address",
    "from_name": "from_name",
    "reply_to": "reply_to",
}
ROUTE_FIELDS = ["backup_email", "status_url", "usual_email", "usual_phone"]
SENDING_FIELDS = [
    "affected_window_days",
    "email_per_second",
    "sms_per_second",
    "chat_per_second",
    "stall_minutes",
]
WORDS = ["subject", "notify", "explain", "solve", "predict", "apologise"]
PAGE_FIELDS = ["title", "public_url", "fallback_url", "allow_subscribers", "history_days"]
S3_FIELDS = {
    "endpoint": "s3_endpoint_url",
    "bucket": "s3_bucket",
    "prefix": "s3_prefix",
    "region": "s3_region",
}
S3_ENV = {"access_key": "s3_access_key_env", "secret_key": "s3_secret_key_env"}


# ------------------------------------------------------------------ checking


def check_comms(spec: CommsSpec, document: Mapping[str, Any]) -> Iterator[Problem]:
    listed = listed_slugs(document, SYSTEMS) if SYSTEMS in document else None
    if spec.routes is not None and listed is not None:
        for name in ("email_systems", "phone_systems"):
            for i, slug in enumerate(getattr(spec.routes, name) or []):
                if slug not in listed:
                    yield ("routes", name, i), f"no system {slug!r} is listed under {SYSTEMS}"
    seen: dict[str, int] = {}
    for i, account in enumerate(spec.key_accounts or []):
        earlier = seen.setdefault(account.customer, i)
        if earlier != i:
            yield (
                ("key_accounts", i, "customer"),
                f"{account.customer!r} is listed twice (also key_accounts[{earlier}])",
            )
    known = {k.key for k in audiences.registered() if k.listed}
    pairs: dict[tuple[str, str], int] = {}
    for i, template in enumerate(spec.templates or []):
        if template.audience not in known:
            yield (
                ("templates", i, "audience"),
                f"unknown audience {template.audience!r} (known: {', '.join(sorted(known))})",
            )
        earlier = pairs.setdefault((template.audience, template.phase), i)
        if earlier != i:
            yield ("templates", i), f"listed twice (also templates[{earlier}])"
    shown: dict[str, int] = {}
    for i, c in enumerate((spec.status_page.components or []) if spec.status_page else []):
        if listed is not None and c.system not in listed:
            yield (
                ("status_page", "components", i, "system"),
                f"no system {c.system!r} is listed under {SYSTEMS}",
            )
        earlier = shown.setdefault(c.system, i)
        if earlier != i:
            yield (
                ("status_page", "components", i, "system"),
                f"{c.system!r} is listed twice (also components[{earlier}])",
            )


# ------------------------------------------------------------------- export


def export_comms(org: Any) -> CommsSpec | None:
    settings = CommsSettings.objects.filter(org=org).first()
    accounts = list(KeyAccount.objects.filter(org=org).order_by("customer_key"))
    templates = list(MessageTemplate.objects.filter(org=org).order_by("audience", "phase"))
    page = StatusPage.objects.filter(org=org).first()
    if settings is None and not accounts and not templates and page is None:
        return None
    settings = settings or preferences.settings_for(org)
    values = {key: getattr(settings, field) for key, field in MAIL_FIELDS.items()}
    values["security"] = SmtpSecurity(values["security"])
    mail = MailSpec.model_construct(
        **values,
        password=f"{ENV_PREFIX}{settings.smtp_password_env}"
        if settings.smtp_password_env
        else None,
    )
    routes = RoutesSpec.model_construct(
        phone_numbers=rendering.lines(settings.phone_numbers),
        **{name: getattr(settings, name) for name in ROUTE_FIELDS},
        email_systems=sorted(settings.email_systems.values_list("slug", flat=True)),
        phone_systems=sorted(settings.phone_systems.values_list("slug", flat=True)),
    )
    sending = SendingSpec.model_construct(**{n: getattr(settings, n) for n in SENDING_FIELDS})
    return CommsSpec.model_construct(
        mail=mail,
        routes=routes,
        sending=sending,
        drill_recipients=rendering.lines(settings.drill_recipients),
        key_accounts=[
            KeyAccountSpec.model_construct(
                customer=a.customer_key,
                name=a.name,
                call_dont_email=a.call_dont_email,
                phone=a.phone,
                contact=a.contact_name,
                note=a.note,
            )
            for a in accounts
        ],
        templates=[
            TemplateSpec.model_construct(
                audience=t.audience, phase=Phase(t.phase), **{w: getattr(t, w) for w in WORDS}
            )
            for t in templates
        ],
        status_page=_export_page(page) if page is not None else None,
    )


def _export_page(page: StatusPage) -> StatusPageSpec:
    s3 = None
    if page.s3_bucket:
        values: dict[str, Any] = {key: getattr(page, f) for key, f in S3_FIELDS.items()}
        for key, field in S3_ENV.items():
            values[key] = f"{ENV_PREFIX}{getattr(page, field)}" if getattr(page, field) else None
        s3 = S3Spec.model_construct(**values)
    return StatusPageSpec.model_construct(
        **{name: getattr(page, name) for name in PAGE_FIELDS},
        folder=page.folder_path,
        s3=s3,
        components=[
            ComponentSpec.model_construct(
                system=c.system.slug, name=c.name, description=c.description
            )
            for c in statuspage.components(page.org)
        ],
    )


# -------------------------------------------------------------------- apply


def _systems(org: Any, slugs: list[str], where: tuple[str | int, ...]) -> list[System]:
    found = {s.slug: s for s in System.objects.filter(org=org, slug__in=slugs)}
    for i, slug in enumerate(slugs):
        if slug not in found:
            raise SectionError(
                (COMMS, *where, i),
                f"the organisation has no system {slug!r} (add it under {SYSTEMS})",
            )
    return [found[s] for s in slugs]


# Where each setting is in the file, for errors.
PLACES: dict[str, tuple[str, ...]] = {
    **{field: ("mail", key) for key, field in MAIL_FIELDS.items()},
    "smtp_password_env": ("mail", "password"),
    "phone_numbers": ("routes", "phone_numbers"),
    **{name: ("routes", name) for name in ROUTE_FIELDS},
    **{name: ("sending", name) for name in SENDING_FIELDS},
    "drill_recipients": ("drill_recipients",),
}


def _settings_values(spec: CommsSpec) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if spec.mail is not None:
        for key, field in MAIL_FIELDS.items():
            value = getattr(spec.mail, key)
            if value is not None:
                values[field] = str(value.value) if key == "security" else value
        if spec.mail.password is not None:
            values["smtp_password_env"] = env_name(spec.mail.password)
    if spec.routes is not None:
        if spec.routes.phone_numbers is not None:
            values["phone_numbers"] = "\n".join(spec.routes.phone_numbers)
        for name in ROUTE_FIELDS:
            if getattr(spec.routes, name) is not None:
                values[name] = getattr(spec.routes, name)
    if spec.sending is not None:
        for name in SENDING_FIELDS:
            if getattr(spec.sending, name) is not None:
                values[name] = getattr(spec.sending, name)
    if spec.drill_recipients is not None:
        values["drill_recipients"] = "\n".join(spec.drill_recipients)
    return values


def _settings(ctx: ApplyContext, spec: CommsSpec) -> None:
    org = ctx.organisation
    values = _settings_values(spec)
    systems: dict[str, Any] = {}
    if spec.routes is not None:
        for name in ("email_systems", "phone_systems"):
            slugs = getattr(spec.routes, name)
            if slugs is not None:
                systems[name] = _systems(org, slugs, ("routes", name))
    try:
        changes = preferences.update_settings(org, **systems, **values)
    except preferences.SetupProblem as exc:
        field, message = exc.errors[0]
        raise SectionError((COMMS, *PLACES.get(field, ())), message) from exc
    for field in changes:
        where = ".".join(PLACES.get(field, (field,)))
        ctx.updated(f"comms: {where} changed")


def _key_accounts(ctx: ApplyContext, specs: list[KeyAccountSpec]) -> None:
    org = ctx.organisation
    current = {a.customer_key: a for a in KeyAccount.objects.filter(org=org).select_related("org")}
    for i, spec in enumerate(specs):
        fields = {
            "name": spec.name,
            "call_dont_email": spec.call_dont_email,
            "phone": spec.phone,
            "contact_name": spec.contact,
            "note": spec.note,
        }
        before = current.get(spec.customer)
        snapshot = {n: getattr(before, n) for n in fields} if before else None
        try:
            account = preferences.save_key_account(org, spec.customer, **fields)
        except preferences.SetupProblem as exc:
            field, message = exc.errors[0]
            place = "customer" if field == "customer_key" else field
            raise SectionError((COMMS, "key_accounts", i, place), message) from exc
        if before is None:
            ctx.created(f"comms: key account {spec.customer}")
        elif snapshot != {n: getattr(account, n) for n in fields}:
            ctx.updated(f"comms: key account {spec.customer} changed")
    listed = {s.customer for s in specs}
    for key in sorted(set(current) - listed):
        preferences.remove_key_account(current[key])
        ctx.removed(f"comms: key account {key} removed (not listed)")


def _templates(ctx: ApplyContext, specs: list[TemplateSpec]) -> None:
    org = ctx.organisation
    for i, spec in enumerate(specs):
        template = defaults.template_for(org, spec.audience, spec.phase)
        words = {w: getattr(spec, w) for w in WORDS if getattr(spec, w) is not None}
        try:
            changes = preferences.save_template(template, **words)
        except preferences.SetupProblem as exc:
            raise SectionError((COMMS, "templates", i, exc.errors[0][0]), exc.errors[0][1]) from exc
        if changes:
            ctx.updated(
                f"comms: template {spec.audience}/{spec.phase.value}: {', '.join(changes)} changed"
            )


def _status_page(ctx: ApplyContext, spec: StatusPageSpec) -> None:
    org = ctx.organisation
    values: dict[str, Any] = {
        name: getattr(spec, name) for name in PAGE_FIELDS if getattr(spec, name) is not None
    }
    places: dict[str, tuple[str, ...]] = {name: (name,) for name in PAGE_FIELDS}
    places["folder_path"] = ("folder",)
    if spec.folder is not None:
        values["folder_path"] = spec.folder
    if spec.s3 is not None:
        for key, field in S3_FIELDS.items():
            if getattr(spec.s3, key) is not None:
                values[field] = getattr(spec.s3, key)
                places[field] = ("s3", key)
        for key, field in S3_ENV.items():
            if getattr(spec.s3, key) is not None:
                values[field] = env_name(getattr(spec.s3, key))
                places[field] = ("s3", key)
    try:
        changes = statuspage.update_page(org, **values)
    except statuspage.StatusPageProblem as exc:
        field, message = exc.errors[0]
        raise SectionError((COMMS, "status_page", *places.get(field, ())), message) from exc
    for field in changes:
        where = ".".join(places.get(field, (field,)))
        ctx.updated(f"comms: status_page.{where} changed")
    if spec.components is not None:
        slugs = [c.system for c in spec.components]
        systems = _systems(org, slugs, ("status_page", "components"))
        current = {c.system_id: c for c in statuspage.components(org)}
        chosen = []
        for system, c in zip(systems, spec.components, strict=True):
            before = current.get(system.pk)
            name = c.name if c.name is not None else (before.name if before else system.name)
            described = c.description
            if described is None:
                described = before.description if before else ""
            chosen.append((system, name, described))
        for change in statuspage.save_components(org, chosen):
            ctx.updated(f"comms: status page: {change}")


def apply_comms(ctx: ApplyContext, spec: CommsSpec) -> None:
    _settings(ctx, spec)
    if spec.key_accounts is not None:
        _key_accounts(ctx, spec.key_accounts)
    if spec.templates is not None:
        _templates(ctx, spec.templates)
    if spec.status_page is not None:
        _status_page(ctx, spec.status_page)


COMMS_SECTION = register(
    Section(
        key=COMMS,
        schema=CommsSpec,
        export=export_comms,
        apply=apply_comms,
        check=check_comms,
        order=45,  # after systems (20), which routes may name
        refusals=(preferences.SetupProblem, statuspage.StatusPageProblem),
    )
)
