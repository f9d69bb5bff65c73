"""The tabletop library: five outages small businesses really have, written up for a drill
around a table — the story, the injects (what the facilitator reads out, and when), the
questions to talk through, and the steps the team is expected to take.

Each can be added to the plan as a scenario (its trigger, steps and "system back up"
checklist, on the organisation's own systems), and a tabletop drill of any scenario can
take its injects and questions from here. Shipped as data: an installation adds its own by
appending to LIBRARY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fallback.accounts.models import Organisation
from fallback.monitor.models import System, SystemKind
from fallback.plans import editing, seeds
from fallback.plans.models import Plan, PlanRole, Scenario, ScenarioKind
from fallback.plans.seeds import StepSeed


@dataclass(frozen=True)
class Inject:
    minute: int  # after the drill starts
    text: str


@dataclass(frozen=True)
class TabletopScenario:
    key: str
    title: str
    kind: str  # ScenarioKind
    story: str  # read out at the start
    trigger: str
    details: str
    injects: tuple[Inject, ...]
    questions: tuple[str, ...]
    steps: tuple[StepSeed, ...]
    back_up: tuple[str, ...]
    systems: Callable[[Organisation], list[System]]

    def systems_text(self, org: Organisation) -> str:
        names = [s.name for s in self.systems(org)]
        return ", ".join(names)


def _business_systems(org: Organisation) -> list[System]:
    return seeds.scenario_systems(org, ScenarioKind.SYSTEM_LOST)


def _main_system(org: Organisation) -> list[System]:
    found = _business_systems(org)
    critical = [s for s in found if s.criticality == "critical"]
    return (critical or found)[:1]


def _email_systems(org: Organisation) -> list[System]:
    return list(System.objects.filter(org=org, kind=SystemKind.EMAIL).order_by("name"))


def _line_systems(org: Organisation) -> list[System]:
    return seeds.scenario_systems(org, ScenarioKind.LINE_DOWN)


def _no_systems(org: Organisation) -> list[System]:
    return []


LIBRARY: list[TabletopScenario] = [
    TabletopScenario(
        key="ransomware",
        title="Ransomware at the host",
        kind=ScenarioKind.SYSTEM_LOST,
        story=(
            "Monday, 8:40. The main system will not load. At 9:15 the hosting company emails "
            "every customer: ransomware has encrypted its servers; it is restoring from "
            "backups and expects ten days. Nobody can look up a customer or an order."
        ),
        trigger="The main system is unreachable and its host reports an attack or data loss.",
        details=(
            "The host may be down for days and may lose recent data: work from the fallback "
            "desk on the replica, tell customers early and honestly, and check what the host "
            "restores against the replica before trusting it."
        ),
        injects=(
            Inject(0, "The main system shows a blank page for everyone in the office."),
            Inject(10, "The host's status page: 'security incident, investigating'."),
            Inject(20, "A key customer phones to place their weekly order."),
            Inject(35, "The host emails: ransomware; restore from backups, ten days expected."),
            Inject(50, "A supplier asks whether Friday's invoice will be paid on time."),
            Inject(70, "The host restores: the last three days of orders are missing."),
        ),
        questions=(
            "Who decides we are in fallback mode, and how do the others find out?",
            "How old is the replica's copy, and which orders could be missing from it?",
            "What do we tell customers today, and when is the next update?",
            "Who checks the restored data against the replica before we switch back?",
        ),
        steps=(
            StepSeed(
                "Confirm the outage so that fallback mode switches on",
                "Fallback → Incidents",
                "Open the incident and confirm it.",
                10,
            ),
            StepSeed(
                "Ask the host what was lost and when it expects to be back",
                "Phone",
                "The support line and account number are under Contacts → Vendor support.",
                15,
            ),
            StepSeed("Tell staff to work from the fallback desk", "Office, phone", "", 10),
            StepSeed(
                "Send the first notice to customers, with how to order meanwhile",
                "Fallback → Notices",
                "",
                30,
            ),
            StepSeed(
                "Take the key customer's order at the desk",
                "Fallback → Desk",
                "Search the replica; the order gets a provisional number.",
                15,
                lead=False,
            ),
            StepSeed(
                "Compare the restored records with the replica; list what is missing",
                "Fallback → Replica",
                "",
                60,
            ),
        ),
        back_up=(
            "Check with the host that the attack is contained before logging in again.",
            "Change the passwords used with the main system.",
            "Compare the restored records with the replica; re-enter what is missing.",
            "Enter every document made at the desk, ticking each off with its final number.",
            "Tell customers we are back, and what (if anything) they need to check.",
        ),
        systems=_main_system,
    ),
    TabletopScenario(
        key="hosting-outage",
        title="Two-week hosting outage",
        kind=ScenarioKind.SYSTEM_LOST,
        story=(
            "A server at the hosting provider blows up. The provider says the main system "
            "will be back 'as soon as possible'; a week later it says another week."
        ),
        trigger="The main system is down and its provider cannot say when it will be back.",
        details=(
            "A long outage: the desk carries the business for weeks, paper forms fill the "
            "gaps, customers hear from us on a schedule, and the SLA claim is prepared."
        ),
        injects=(
            Inject(0, "The main system is down; the provider's status page says 'major outage'."),
            Inject(15, "The provider: hardware failure, no estimate yet."),
            Inject(30, "Day 3 (pretend): customers ask why nobody has told them anything."),
            Inject(45, "Day 7 (pretend): the provider says another week."),
            Inject(60, "Day 14 (pretend): it is back. Two weeks of desk documents to re-enter."),
        ),
        questions=(
            "How often do we update customers during a long outage, and who writes it?",
            "What runs out first: paper forms, stock information, or people's patience?",
            "Who keeps the evidence of downtime for the SLA claim?",
            "How long does re-entering two weeks of documents take, and who does it?",
        ),
        steps=(
            StepSeed("Confirm the outage so that fallback mode switches on", "Fallback", "", 10),
            StepSeed("Agree the update schedule for customers and staff", "Meeting", "", 20),
            StepSeed(
                "Send the first notice to customers and suppliers", "Fallback → Notices", "", 30
            ),
            StepSeed(
                "Print the price list and the blank forms from the binder for each desk",
                "Office",
                "",
                20,
                lead=False,
            ),
            StepSeed("Keep the downtime evidence for the SLA claim", "Fallback → Systems", "", 10),
            StepSeed(
                "Plan the way back: who re-enters which documents",
                "Fallback → Desk → Way back",
                "",
                30,
            ),
        ),
        back_up=(
            "Check the main system's records are complete up to the outage.",
            "Re-enter every desk and paper document, ticking each off with its final number.",
            "Send the follow-up to customers, with compensation where it is deserved.",
            "Send the SLA claim to the provider with the measured downtime.",
        ),
        systems=_main_system,
    ),
    TabletopScenario(
        key="email-down",
        title="Email provider down",
        kind=ScenarioKind.SYSTEM_LOST,
        story=(
            "Friday, 23:00. The newsletter provider sends last week's campaign again to "
            "every customer, then goes down. On Monday the office email does not work either."
        ),
        trigger="Email cannot be sent or received, or the newsletter service misbehaves.",
        details=(
            "Customers cannot reach us by email and we cannot reach them: notices go out by "
            "the backup mail route and SMS, and the phones take the load."
        ),
        injects=(
            Inject(0, "Customers reply to a newsletter nobody meant to send."),
            Inject(10, "Monday: no new email has arrived since Saturday."),
            Inject(25, "A customer phones: 'I emailed my order on Saturday, did you get it?'"),
            Inject(40, "The provider says its service will be back tonight."),
        ),
        questions=(
            "Which of our notices depend on the email that is down?",
            "Is the backup mail route set up and tested?",
            "How do we find the orders customers emailed while it was down?",
        ),
        steps=(
            StepSeed("Confirm the outage", "Fallback → Incidents", "", 10),
            StepSeed(
                "Tell customers to phone or use the backup address, by SMS and backup email",
                "Fallback → Notices",
                "",
                30,
            ),
            StepSeed("Put a message on the status page", "Fallback → Notices", "", 10),
            StepSeed("Log every phone order at the desk", "Fallback → Desk", "", None, lead=False),
        ),
        back_up=(
            "Check mail arrives and leaves again (send a test both ways).",
            "Ask the provider for the messages received while it was down.",
            "Answer the orders that came by email during the outage.",
        ),
        systems=_email_systems,
    ),
    TabletopScenario(
        key="internet-down",
        title="Internet link down",
        kind=ScenarioKind.LINE_DOWN,
        story=(
            "A digger cuts the street's cable at 10:00. The office has no internet and no "
            "phone line; the provider says two days."
        ),
        trigger="Fallback's canary checks see our own internet is down, or the phones are dead.",
        details=(
            "Every cloud system is unreachable from the office although none of them is down: "
            "a hotspot for the machines that must work, the office number diverted."
        ),
        injects=(
            Inject(0, "No internet in the office; the phones are dead."),
            Inject(10, "The provider's fault line: a cut cable, repair in two days."),
            Inject(20, "A customer tweets that nobody answers the phone."),
            Inject(30, "The hotspot's data allowance is nearly used up."),
        ),
        questions=(
            "Which computers must work, and can they run on a mobile hotspot?",
            "Who can divert the office number, and do they know how?",
            "Does the fallback desk work with no internet at all?",
        ),
        steps=(
            StepSeed("Check the router and call the provider's fault line", "Office", "", 15),
            StepSeed("Divert the office number to a mobile", "Phone provider", "", 10),
            StepSeed("Switch the computers that must work to a hotspot", "Office", "", 10),
            StepSeed("Tell customers replies may be slow", "Phone, SMS", "", 15),
        ),
        back_up=(
            "Check internet and phones work from every desk.",
            "Cancel the call diversion and switch off the hotspot.",
            "Tell staff the line is back.",
        ),
        systems=_line_systems,
    ),
    TabletopScenario(
        key="key-person-absent",
        title="Key person absent",
        kind=ScenarioKind.PEOPLE,
        story=(
            "The office manager, who knows the passwords, runs payroll and talks to the "
            "suppliers, is in hospital for two weeks — and on day two the main system goes down."
        ),
        trigger="Someone who holds a role cannot be reached during an outage.",
        details=(
            "The alternates take over: the roles, the written procedures and the contact "
            "list must be enough without the person who usually knows."
        ),
        injects=(
            Inject(0, "The office manager cannot be reached, for two weeks."),
            Inject(10, "The main system goes down."),
            Inject(20, "Payroll is due in three days."),
            Inject(30, "A supplier asks for the person they always speak to."),
        ),
        questions=(
            "Who is the first alternate for each of the office manager's roles?",
            "Where are the passwords and the supplier contacts written down?",
            "What did we have to ask the absent person after all?",
        ),
        steps=(
            StepSeed("Call the role's first alternate and hand the role over", "Phone", "", 10),
            StepSeed("Find the passwords and procedures without asking them", "Office", "", 20),
            StepSeed("Run the outage procedure as the alternate", "Fallback → Plan", "", 30),
            StepSeed(
                "Note everything that was missing from the plan",
                "Fallback → Plan",
                "",
                10,
                lead=False,
            ),
        ),
        back_up=(
            "Hand back: tell them what was done and what is still open.",
            "Add what was missing to the plan.",
        ),
        systems=_no_systems,
    ),
]


class NotInLibrary(KeyError):
    pass


def get(key: str) -> TabletopScenario:
    for entry in LIBRARY:
        if entry.key == key:
            return entry
    known = ", ".join(e.key for e in LIBRARY)
    raise NotInLibrary(f"No tabletop scenario {key!r}; there are: {known}")


def choices() -> list[tuple[str, str]]:
    return [(e.key, e.title) for e in LIBRARY]


def matching(scenario: Scenario) -> TabletopScenario | None:
    """The library entry a plan scenario came from (by title), else the first of its kind."""
    for entry in LIBRARY:
        if entry.title.casefold() == scenario.title.casefold():
            return entry
    return next((e for e in LIBRARY if e.kind == scenario.kind), None)


def in_plan(plan: Plan, entry: TabletopScenario) -> Scenario | None:
    return plan.scenarios.filter(title__iexact=entry.title).first()


def add_to_plan(plan: Plan, entry: TabletopScenario) -> Scenario:
    """The library scenario as one of the plan's, on the organisation's own systems, its
    steps done by the incident lead (or anyone); editing.PlanInvalid if it is there already."""
    lead: PlanRole | None = plan.roles.filter(is_incident_lead=True).first()
    steps = [
        editing.StepInput(
            action=s.action,
            role=lead if s.lead else None,
            place=s.place,
            method=s.method,
            minutes=s.minutes,
        )
        for s in entry.steps
    ]
    return editing.save_scenario(
        plan,
        None,
        systems=entry.systems(plan.org),
        steps=steps,
        back_up=list(entry.back_up),
        kind=entry.kind,
        title=entry.title,
        trigger=entry.trigger,
        details=entry.details,
    )
