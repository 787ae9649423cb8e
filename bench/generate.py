"""A deterministic synthetic relead repository: N leads, M history records.

``generate(dest, leads=N, history=M)`` writes

* ``content/`` copied from the project's own copy of the example (``tests/example/``),
* ``leads.yaml`` in the style of the example file: ids ``lead-000123-first-last``,
  names with accents, companies, quoted US phone numbers in the usual written
  forms (all valid for ``phonenumbers``, all distinct), emails, sources,
  owners, values, stage dates going forward along the funnel, about 60% lost
  (reason, temperature, sometimes the stage and a note), some back in the
  funnel or recovered after the loss, some won, recycle dates, tags,
  ``incomplete`` leads with a ``follow_up``, consent, ``do_not_contact`` and
  notes, some of them multi-line (``|``);
* ``history/YYYY/MM/YYYY-MM-DD.outreach.tsv``: M records over the two years up
  to ``today``, written with :class:`relead.history.Record` and
  :data:`relead.history.HEADER`: enrolments of lost leads in the campaigns
  whose audience fits them, each step's touch (``attempting`` then ``sent``,
  ``failed`` or ``deferred``; ``skipped``; call outcomes) under its
  :func:`relead.history.touch_id`, and now and then a response.

Every date is on or before ``today`` (2026-11-22 by default). The same
arguments always give the same bytes (one seeded :class:`random.Random`).
The leads file validates without errors; it has warnings, as real data does
(leads given up after too few touches). With ``risky=False`` (the default) it
holds no construct that sends :mod:`relead.read.yamlparse` to its PyYAML fallback;
``risky=True`` adds company names such as ``Hale & Sons`` and notes with
``$5,000``, as the example ``leads.yaml`` has (an ``&`` or ``, 0`` inside a
plain scalar is harmless, but a too-eager scan could take them for an anchor
or an octal number and fall back).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import unicodedata
import zlib
from pathlib import Path

import yaml

from relead.history import HEADER, Record, touch_id

__all__ = ["TODAY", "GENERATOR_VERSION", "generate", "matches", "read_meta"]

TODAY = dt.date(2026, 11, 22)
GENERATOR_VERSION = 2
META_FILE = ".bench.json"
REPO_ROOT = Path(__file__).resolve().parent.parent
# The content every benchmark copies: the project's own copy of the example, not the repository's
# content/, which a team replaces with its own (or deletes): that changes no figure and breaks no bench.
EXAMPLE = REPO_ROOT / "tests" / "example"

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

FIRST = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony "
    "Betty Mark Margaret Donald Sandra Steven Ashley Paul Kimberly Andrew Emily Joshua Donna "
    "Kenneth Michelle Kevin Carol Brian Amanda George Melissa Timothy Deborah Ronald Stephanie "
    "Jason Rebecca Edward Laura Jeffrey Helen Ryan Sharon Jacob Cynthia Gary Kathleen Nicholas "
    "Amy Eric Angela Jonathan Anna Stephen Ruth Larry Brenda Justin Pamela Scott Nicole Brandon "
    "Katherine Benjamin Samantha Samuel Christine Carlos Ingrid Bernard Tom Dana Hannah Marcus "
    "Fatima Noah Beatriz Victor Emily Jamal Walter Frank Priya Aisha Omar Mei Kenji "
    "José María Zoë François Françoise Søren Łukasz Renée Björn Anaïs Chloé Jürgen Inés Noémie "
    "Ángel Íñigo Małgorzata Aleš Øystein Çağla Hélène Jérôme Mónica Raúl Zoltán Dagný Siobhán "
    "Seán Gaëlle Olúwaseun João Thảo Dörte Åsa Mikaël Ümit Eléonore Agnès Joël Cécile"
).split()

LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Hale Mendes "
    "Larsen Becker Reed Whitfield Kowalski Dimarco Briggs Schulz Hughes Mills Peterson Alaoui "
    "Santos Watson Long Okafor Adeyemi Mensah Haddad Nasser Cohen Levi Rossi Bianchi Esposito "
    "Ferreira Nakamura Tanaka Kim Park Patel Shah Chen Wang Singh Kaur Murphy Kelly Sullivan "
    "Müller Schröder Großmann Dvořák Novák Wiśniewski Lefèvre Dupré Bérubé Gómez Núñez Peña "
    "Ibáñez Álvarez Sørensen Åberg Öztürk Yılmaz Čapek Gonçalves Łuczak Jönsson Håkansson "
    "Fernández-López Martín-Ruiz O'Brien O'Connor MacLeod D'Angelo"
).split() + ["van der Berg", "De la Cruz", "da Silva", "von Essen"]

PLACES = (
    "Pacific|Great Lakes|Summit|Riverside|Lakeshore|Prairie|Harbor|Cascade|Bluewater|Ironwood|"
    "Redwood|Granite|Maple|Cedar|Golden Gate|Midwest|Atlantic|Gulf Coast|Rocky Mountain|"
    "Twin Cities|Tri-State|Bay Area|Hudson|Liberty|Keystone|Lone Star|Sunbelt|Nordic|Alpine|"
    "Coastal|Heartland|Evergreen|Frontier|Pioneer|Capital|Metro|Union|Central|Northern|Southern|"
    "Eastside|Westgate|Copper State|Silver Lake|Oak Ridge|Willow Creek|Blue Ridge|Red River|"
    "Lakeview|Crescent|Empire|Patriot|Beacon|Anchor|Compass|Sterling|Meridian|Horizon|Québec|"
    "Montréal|São Paulo|Zürich|Malmö|Kraków|Île-de-France"
).split("|")

INDUSTRIES = (
    "Distribution|Logistics|Freight|Cold Chain|Imports|Hardware|Fasteners|Foods|Produce|Dairy|"
    "Pharma|Apparel|Office Supply|Lumber|Moving and Storage|Print and Mail|Feed and Seed|"
    "Auto Parts|Electrical Supply|Packaging|Plastics|Textiles|Furniture|Beverages|Medical Supply|"
    "Industrial Supply|Warehousing|Fulfillment|Brewing|Bakery|Paper|Chemicals|Tools|Electronics|"
    "Marine Supply|Pet Supply|Building Materials|Seafood|Farms|Trucking|Elektro|Logistique"
).split("|")

SUFFIXES = ("", "", "", "", " Inc.", " LLC", " Co.", " Corp", " Group", ", Inc.", " Ltd", " GmbH")

TITLES = (
    "Operations Director|Warehouse Manager|VP Operations|Owner|Logistics Manager|"
    "Inventory Supervisor|Operations Manager|Supply Chain Director|Plant Manager|IT Manager|"
    "Purchasing Manager|Distribution Center Manager|COO|Head of Fulfillment|Shipping Lead|"
    "Facilities Manager|General Manager|Procurement Specialist|Director of IT|Receiving Supervisor"
).split("|")

SOURCES = (
    "website", "website", "website", "expo-2023-spring", "expo-2023-fall", "expo-2024-spring",
    "expo-2024-fall", "expo-2025-spring", "expo-2025-fall", "expo-2026-spring", "webinar-2024-03",
    "webinar-2025-06", "referral", "referral", "reseller-midwest", "reseller-west", "linkedin",
    "cold-list-2024", "partner-portal", "trade-show-promat-2025",
)

INTERESTS = (
    "handheld scanners for their second DC|RFID tags for inbound pallets|freezer-rated mobile "
    "computers|a scanner and label printer for the stock room|proof-of-delivery scanning for "
    "drivers|cycle counting with handheld scanners|wearable ring scanners for pickers|"
    "rugged tablets for forklifts|a barcode audit of the picking floor|label printers for "
    "shipping|replacing their ageing scanner fleet|voice picking for the night shift|"
    "scanner repair and spare pool|RFID portals at the dock doors|mobile printers for route sales"
).split("|")

TAGS = ("expo", "referral", "key-account", "multi-site", "reseller", "webinar", "pilot", "seasonal")

LOSS_NOTES = (
    "Capex frozen until next fiscal year.", "Went with a cheaper supplier.",
    "Champion left the company.", "Nobody followed up after the demo.",
    "Wanted tags at half our price.", "Project moved to the parent company.",
    "Closed the warehouse in the spring.", "Decision pushed to next year.",
    "Moved picking offshore.", "Stopped answering after the proposal.",
    "Chose the incumbent vendor.", "Needed a CFO sign-off that never came.",
    "Liked the demo; the plant manager never took the meeting.",
    "Budget went to a new conveyor line instead.",
)

NOTE_LINES = (
    "Prefers calls in the morning.", "Met at the booth and asked for the freezer demo.",
    "Referred by an existing customer.", "Runs three DCs in the Midwest.",
    "Ask for the operations lead next time.", "Left a voicemail twice before the loss.",
    "Interested in a pilot for one site.", "Their IT team must approve any new device.",
    "Uses a competitor's scanners that are five years old.",
    "Asked about freezer-rated scanners in the webinar chat.",
    "The badge scanner failed, so he wrote his name on a card.",
    "Wants pricing for 40 devices before the peak season.",
    "Mentioned a second site opening next year.", "Busy season runs from September to December.",
)

RISKY_NOTES = ("Cannot sign over $5,000.", "Asked for 20% off the second order.")

INCOMPLETE_NOTES = (
    "The web form came through with only the company name. Find the buyer on LinkedIn.",
    "Only a name on a business card; find the company.",
    "The reseller passed on the company name only.",
)

OWNERS = ("sam", "priya", "lee")

# Area codes (all valid for phonenumbers with any exchange 200-999) and their zones.
AREA_ZONES = {
    212: "America/New_York", 646: "America/New_York", 718: "America/New_York",
    617: "America/New_York", 202: "America/New_York", 305: "America/New_York",
    404: "America/New_York", 312: "America/Chicago", 773: "America/Chicago",
    847: "America/Chicago", 512: "America/Chicago", 713: "America/Chicago",
    214: "America/Chicago", 608: "America/Chicago", 602: "America/Phoenix",
    303: "America/Denver", 415: "America/Los_Angeles", 206: "America/Los_Angeles",
    619: "America/Los_Angeles", 702: "America/Los_Angeles", 503: "America/Los_Angeles",
    213: "America/Los_Angeles", 416: "America/Toronto", 604: "America/Vancouver",
}
AREAS = tuple(AREA_ZONES)
PHONE_FORMATS = ("+1 {a} {e} {l}", "+1 {a} {e} {l}", "({a}) {e}-{l}", "{a}-{e}-{l}",
                 "+1-{a}-{e}-{l}", "{a}.{e}.{l}", "+1 ({a}) {e}-{l}")

FUNNEL = ("new", "contacted", "appointment", "proposal", "won")
# Chance of reaching each stage from the one before it (for leads that are not won).
STAGE_ODDS = (1.0, 0.88, 0.55, 0.6)
STAGE_GAP = ((0, 0), (1, 7), (4, 30), (7, 40), (7, 60))
TEMPERATURES = ("hot", "warm", "warm", "cold", "cold")

FIRST_DAY = dt.date(2023, 1, 2)
HISTORY_DAYS = 730


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _fold(text: str) -> str:
    """ASCII, lowercase: for ids, email addresses and domains."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("ł", "l") \
        .replace("Ł", "L").replace("ı", "i").replace("đ", "d").replace("æ", "ae").replace("å", "a")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isascii()).lower()


def _slug(text: str, sep: str = "-") -> str:
    out, prev = [], True
    for c in _fold(text):
        if c.isalnum():
            out.append(c)
            prev = False
        elif not prev:
            out.append(sep)
            prev = True
    return "".join(out).strip(sep)


def _norm(text: str) -> str:
    """The same key relead.derive.hygiene uses to find duplicates by name and company."""
    text = unicodedata.normalize("NFKD", text).casefold()
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def _weekday(ordinal: int) -> int:
    """The day itself if Monday to Friday, else the Monday after (ordinal 1 is a Monday)."""
    w = (ordinal - 1) % 7
    return ordinal + (7 - w) if w >= 5 else ordinal


def _iso(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def read_meta(dest: Path) -> dict | None:
    try:
        return json.loads((Path(dest) / META_FILE).read_text())
    except (OSError, ValueError):
        return None


def matches(dest: Path, *, leads: int, history: int, seed: int = 1, risky: bool = False) -> bool:
    """True when ``dest`` holds a complete repository generated with these arguments."""
    meta = read_meta(dest)
    return bool(meta) and meta.get("complete") is True and all(
        meta.get(k) == v for k, v in (("leads", leads), ("history", history), ("seed", seed),
                                      ("risky", risky), ("version", GENERATOR_VERSION),
                                      ("today", TODAY.isoformat())))


# ---------------------------------------------------------------------------
# Leads
# ---------------------------------------------------------------------------

class _LeadMaker:
    def __init__(self, rng: random.Random, settings: dict, campaign_ids: list[str], today: dt.date,
                 risky: bool):
        self.r = rng
        self.today = today.toordinal()
        self.first_day = FIRST_DAY.toordinal()
        reasons = list(settings["lost_reasons"])
        # Weighted like real losses: timing and silence dominate.
        weights = {"not_ready": 22, "budget_freeze": 14, "went_dark": 20, "no_champion": 10,
                   "chose_competitor": 12, "price": 12, "offshored": 4, "closed_business": 6}
        self.reasons = reasons
        self.reason_weights = [weights.get(k, 5) for k in reasons]
        self.out_of_scope = {k for k, v in settings["lost_reasons"].items()
                             if v.get("category") == "out_of_scope"}
        self.campaign_ids = campaign_ids
        self.risky = risky
        self.phones: set[tuple[int, int, int]] = set()
        self.emails: set[str] = set()
        self.people: set[str] = set()
        self.pool: list[tuple] = []       # lost, contactable leads: for the history

    def _phone(self) -> tuple[str, int]:
        r = self.r
        while True:
            a = AREAS[r.randrange(len(AREAS))]
            e = r.randint(200, 999)
            if e == 555 or e % 100 == 11:
                continue
            ln = r.randint(0, 9999)
            if (a, e, ln) not in self.phones:
                self.phones.add((a, e, ln))
                fmt = PHONE_FORMATS[r.randrange(len(PHONE_FORMATS))]
                return fmt.format(a=a, e=e, l=f"{ln:04d}"), a

    def _company(self) -> tuple[str, str]:
        r = self.r
        root = r.choice(LAST) if r.random() < 0.55 else r.choice(PLACES)
        industry = r.choice(INDUSTRIES)
        if self.risky and r.random() < 0.03:
            return f"{root} & Sons", _slug(root, "") + "andsons"
        name = f"{root} {industry}{r.choice(SUFFIXES)}"
        return name, _slug(root, "") + _slug(industry, "")

    def _email(self, first: str, last: str, domain: str) -> str:
        r = self.r
        f, l = _slug(first, ""), _slug(last, "")
        style = r.random()
        local = f"{f}.{l}" if style < 0.6 else f"{f[0]}{l}" if style < 0.8 else \
            f"{f}" if style < 0.9 else f"{f}_{l}"
        email = f"{local}@{domain}.example"
        n = 2
        while email.lower() in self.emails:
            email = f"{local}{n}@{domain}.example"
            n += 1
        self.emails.add(email.lower())
        return email

    def lead(self, index: int) -> str:
        r = self.r
        today = self.today
        lines: list[str] = []
        add = lines.append

        incomplete = r.random() < 0.03
        first, last = r.choice(FIRST), r.choice(LAST)
        for _ in range(20):
            company, domain = self._company()
            key = _norm(f"{first} {last}") + "\x1f" + _norm(company)
            if key not in self.people:
                self.people.add(key)
                break
            first, last = r.choice(FIRST), r.choice(LAST)
        name = f"{first} {last}"
        has_name = has_company = True
        if incomplete:
            if r.random() < 0.5:
                has_name = False
            else:
                has_company = False
        lead_id = f"lead-{index:06d}-" + (_slug(name) if has_name else _slug(company))
        add(f"  - id: {lead_id}")
        if has_name:
            add(f"    name: {name}")
        if has_company:
            add(f"    company: {company}")
        if not incomplete and r.random() < 0.85:
            add(f"    title: {r.choice(TITLES)}")
        email = phone = ""
        if not incomplete and r.random() < 0.9 and has_name:
            email = self._email(first, last, domain)
            add(f"    email: {email}")
        area = None
        if (not incomplete and r.random() < 0.7) or (incomplete and r.random() < 0.2):
            phone, area = self._phone()
            add(f'    phone: "{phone}"')
        if area is not None and r.random() < 0.15:
            add(f"    timezone: {AREA_ZONES[area]}")
        add(f"    source: {r.choice(SOURCES)}")
        add(f"    owner: {OWNERS[r.randrange(3)]}")
        if not incomplete or r.random() < 0.3:
            add(f"    value: {r.choice((1500, 2500, 4800, 6500, 8000, 12000, 18000, 23000, 42000)) + 500 * r.randrange(20)}")
        if not incomplete and r.random() < 0.7:
            add(f"    interest: {r.choice(INTERESTS)}")
        u = r.random()
        if u < 0.35:
            add("    decision_maker: true")
        elif u < 0.5:
            add("    decision_maker: false")

        # The funnel.
        kind = r.random()
        status = "lost" if kind < 0.6 else "won" if kind < 0.72 else "open"
        if incomplete:
            status = "open"
        start = r.randint(self.first_day, today - 2)
        reached = [("new", start)]
        day = start
        target = len(FUNNEL) if status == "won" else len(FUNNEL) - 1
        for i in range(1, target):
            if status != "won" and r.random() > STAGE_ODDS[i]:
                break
            lo, hi = STAGE_GAP[i]
            nxt = day + r.randint(lo, hi)
            if nxt > today:
                break
            day = nxt
            reached.append((FUNNEL[i], day))
        if status == "won" and reached[-1][0] != "won":
            status = "open"
        tags = []
        if incomplete:
            tags.append("incomplete")
        if r.random() < 0.15:
            tags.extend(r.sample(TAGS, r.randint(1, 2)))
        if tags:
            add(f"    tags: [{', '.join(tags)}]")
        if incomplete or (status == "open" and r.random() < 0.3):
            add(f"    follow_up: {_iso(r.randint(max(day, today - 60), today))}")

        lost_block: list[str] = []
        recycle = None
        temperature = reason = lost_stage = None
        touches = None
        if status == "lost":
            furthest = reached[-1][0]
            lost_day = min(today, day + r.randint(3, 120))
            reason = r.choices(self.reasons, self.reason_weights)[0]
            temperature = TEMPERATURES[r.randrange(len(TEMPERATURES))]
            if furthest == "proposal" and r.random() < 0.5:
                temperature = "hot"
            lost_stage = furthest
            lost_block.append("    lost:")
            lost_block.append(f"      date: {_iso(lost_day)}")
            if r.random() < 0.2:
                lost_block.append(f"      stage: {furthest}")
            lost_block.append(f"      reason: {reason}")
            lost_block.append(f"      temperature: {temperature}")
            if r.random() < 0.5:
                note = r.choice(LOSS_NOTES)
                if self.risky and r.random() < 0.05:
                    note = r.choice(RISKY_NOTES)
                lost_block.append(f"      note: {note}")
            # Back in the funnel (or recovered) after the loss.
            if reason not in self.out_of_scope and r.random() < 0.1 and lost_day < today - 10:
                stage_i = FUNNEL.index(furthest) + 1
                again = lost_day
                while stage_i < len(FUNNEL):
                    again += r.randint(5, 60)
                    if again > today:
                        break
                    reached.append((FUNNEL[stage_i], again))
                    status = "back"
                    stage_i += 1
                    if r.random() < 0.5:
                        break
            if r.random() < 0.2:
                lo = lost_day + 60
                if lo <= today:
                    recycle = r.randint(lo, min(today, lost_day + 400))
            touches = r.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8))
            if reason in self.out_of_scope and r.random() < 0.7:
                touches = r.randint(7, 10)      # tried hard before calling it dead
            if status == "lost" and (email or phone):
                self.pool.append((lead_id, temperature, lost_stage, reason, bool(email), bool(phone)))
        elif status == "won" or r.random() < 0.5:
            touches = r.randint(0, 6)

        add("    reached:")
        for stage, when in reached:
            add(f"      {stage}: {_iso(when)}")
        lines.extend(lost_block)
        if recycle is not None:
            add(f"    recycle_on: {_iso(recycle)}")
        if status == "lost" and r.random() < 0.03:
            add(f"    campaign: {r.choice(self.campaign_ids)}")
        u = r.random()
        if phone and u < 0.3:
            add("    consent: {sms: true}")
        elif email and u < 0.33:
            add("    consent: {email: false}")
        elif phone and email and u < 0.35:
            add("    consent: {email: false, sms: true}")
        if r.random() < 0.02:
            add("    do_not_contact: true")
        if touches is not None:
            add(f"    touches: {touches}")
        if incomplete:
            add(f"    notes: {r.choice(INCOMPLETE_NOTES)}")
        else:
            u = r.random()
            if u < 0.12:
                add(f"    notes: {r.choice(NOTE_LINES)}")
            elif u < 0.2:
                add("    notes: |")
                for line in r.sample(NOTE_LINES, r.randint(2, 3)):
                    add(f"      {line}")
        add("")
        return "\n".join(lines) + "\n"


_LEADS_HEAD = """\
# Synthetic leads for `make bench` (bench/generate.py): {n} leads, generated, not real.
#
# Same style as the example leads.yaml:
#  - `id` is unique and never reused.
#  - `reached:` holds the date each funnel stage was reached (new, contacted, appointment, proposal, won).
#  - `lost:` is added when a lead falls out of the funnel: the date, a reason from
#    content/settings.yaml (lost_reasons), and how hot the lead was at the time.
#  - Phones are written as people give them; quote them. Dates are YYYY-MM-DD, unquoted.

leads:

"""


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------

def _campaign_for(temperature: str, stage: str, reason: str, campaigns: dict, r: random.Random) -> str:
    if r.random() < 0.25 and "nurture" in campaigns:
        return "nurture"
    if (temperature in ("hot", "warm") and stage in ("appointment", "proposal")
            and reason in ("not_ready", "budget_freeze", "went_dark", "no_champion")
            and "hot-reactivation" in campaigns):
        return "hot-reactivation"
    if temperature == "warm" and "warm-lead-magnet" in campaigns:
        return "warm-lead-magnet"
    if temperature == "cold" and "cold-test" in campaigns:
        return "cold-test"
    return "nurture" if "nurture" in campaigns else next(iter(campaigns))


RESPONSES = ("replied", "not_interested", "interested", "unsubscribed", "bounced", "wrong_number",
             "out_of_scope", "appointment", "opted_out", "do_not_contact", "won", "proposal")
RESPONSE_WEIGHTS = (32, 20, 15, 8, 6, 3, 3, 4, 4, 1, 2, 2)
REPLY_NOTES = ("Asked us to call back after the holidays.", "Forwarded to their new ops manager.",
               "Wants the benchmark report first.", "Said the budget opens in March.",
               "Replied from a phone:\tout of office until Monday.",
               "Two lines:\nthey are still using the old scanners.", "", "", "")
FAIL_REFS = {"email": (("550", "mailbox unavailable"), ("421", "service not available"),
                       ("554", "message rejected\\ as spam")),
             "sms": (("21610", "recipient unsubscribed from SMS"), ("30003", "unreachable handset"),
                     ("30005", "unknown destination"))}
SKIP_REASONS = {"email": ("daily cap reached", "no email consent", "outside the send window"),
                "sms": ("no sms consent", "daily cap reached", "outside the send window")}


def _history(r: random.Random, pool: list[tuple], campaigns: dict, total: int, today: dt.date):
    """``total`` records, grouped by day: {ordinal: [(at, line), ...]}."""
    days: dict[int, list[tuple[str, str]]] = {}
    end = today.toordinal()
    start = end - HISTORY_DAYS + 1
    count = 0
    if not pool or total <= 0:
        return days

    def emit(day: int, secs: int, event: str, lead: str, campaign: str, enrolment: str, step: str,
             channel: str, variant: str, touch: str = "", ref: str = "", note: str = "") -> None:
        nonlocal count
        iso = _iso(day)
        at = f"{iso}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}Z"
        line = Record(iso, at, event, lead, campaign, enrolment, step, channel, variant, touch,
                      ref, note).line()
        lst = days.get(day)
        if lst is None:
            days[day] = [(at, line)]
        else:
            lst.append((at, line))
        count += 1

    npool = len(pool)
    while count < total:
        lead, temperature, stage, reason, has_email, has_phone = pool[r.randrange(npool)]
        cid = _campaign_for(temperature, stage, reason, campaigns, r)
        steps, variants = campaigns[cid]
        variant = variants[zlib.crc32(lead.encode()) % len(variants)] if variants else ""
        enrol_day = _weekday(r.randint(start, end))
        if enrol_day > end:
            continue
        enrolment = _iso(enrol_day)
        secs = r.randint(14 * 3600, 15 * 3600)      # 08:00-09:00 in Chicago, in UTC
        emit(enrol_day, secs, "enrolled", lead, cid, enrolment, "", "", variant)
        for i, (offset, channel) in enumerate(steps):
            if count >= total:
                break
            day = _weekday(enrol_day + offset * 7 // 5)     # business days, roughly
            if day > end:
                break
            step = str(i)
            tid = touch_id(lead, cid, enrolment, i)
            secs = r.randint(15 * 3600, 22 * 3600)
            usable = has_email if channel == "email" else has_phone if channel in ("sms", "call") else True
            u = r.random()
            if channel in ("email", "sms"):
                if not usable or u < 0.008:
                    why = f"no {channel}" if not usable else r.choice(SKIP_REASONS[channel])
                    emit(day, secs, "skipped", lead, cid, enrolment, step, channel, variant, tid, why)
                    continue
                emit(day, secs, "attempting", lead, cid, enrolment, step, channel, variant, tid)
                if count >= total or u < 0.01:      # a run died: the touch is unknown
                    continue
                secs += r.randint(1, 3)
                if u < 0.05:
                    code, note = r.choice(FAIL_REFS[channel])
                    emit(day, secs, "failed", lead, cid, enrolment, step, channel, variant, tid, code, note)
                    continue
                if u < 0.065:
                    emit(day, secs, "deferred", lead, cid, enrolment, step, channel, variant, tid, "451")
                    continue
                ref = (f"<{r.getrandbits(64):016x}@mail.northwind.example>" if channel == "email"
                       else f"SM{r.getrandbits(128):032x}")
                emit(day, secs, "sent", lead, cid, enrolment, step, channel, variant, tid, ref)
            elif channel == "call":
                if not usable:
                    emit(day, secs, "skipped", lead, cid, enrolment, step, channel, variant, tid, "no phone")
                    continue
                event = "called" if u < 0.4 else "no_answer" if u < 0.75 else "voicemail"
                emit(day, secs, event, lead, cid, enrolment, step, channel, variant, tid,
                     "", "Left the audit offer." if event == "voicemail" else "")
                if event != "called":
                    continue
            else:   # mail: a printed piece the owner sends
                emit(day, secs, "settled_sent", lead, cid, enrolment, step, channel, variant, tid,
                     "task")
            if count < total and r.random() < 0.05:
                event = r.choices(RESPONSES, RESPONSE_WEIGHTS)[0]
                rday = day + r.choice((0, 0, 1, 1, 2, 3, 5))
                if rday > end:
                    break
                note = r.choice(REPLY_NOTES) if event == "replied" else ""
                emit(rday, r.randint(15 * 3600, 23 * 3600), event, lead, cid, enrolment, step,
                     channel, variant, tid, "", note)
                break
    return days


def _load_campaigns(content: Path) -> dict[str, tuple[list[tuple[int, str]], list[str]]]:
    out = {}
    for path in sorted((content / "campaigns").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        steps = [(int(s["day"]), str(s["channel"])) for s in data.get("steps") or ()]
        if steps:
            out[path.stem] = (steps, sorted(data.get("variants") or ()))
    return out


# ---------------------------------------------------------------------------
# The repository
# ---------------------------------------------------------------------------

def generate(dest: Path | str, *, leads: int, history: int, seed: int = 1, risky: bool = False,
             today: dt.date = TODAY, source: Path | str = EXAMPLE) -> dict:
    """Write the repository into ``dest`` (emptied first); return what was written."""
    dest, source = Path(dest), Path(source)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    # content/ only: templates/ are not copied, so site_builder renders with this checkout's own
    # (a copy would go stale under --keep while the templates change).
    shutil.copytree(source / "content", dest / "content")
    settings = yaml.safe_load((dest / "content" / "settings.yaml").read_text(encoding="utf-8"))
    campaigns = _load_campaigns(dest / "content")

    r = random.Random(seed)
    maker = _LeadMaker(r, settings, sorted(campaigns), today, risky)
    parts = [_LEADS_HEAD.format(n=leads)]
    parts.extend(maker.lead(i) for i in range(1, leads + 1))
    leads_text = "".join(parts)
    del parts
    leads_bytes = leads_text.encode("utf-8")
    (dest / "leads.yaml").write_bytes(leads_bytes)
    del leads_text

    days = _history(r, maker.pool, campaigns, history, today)
    history_bytes = 0
    records = 0
    for day in sorted(days):
        rows = days[day]
        rows.sort()
        records += len(rows)
        iso = _iso(day)
        path = dest / "history" / iso[:4] / iso[5:7] / f"{iso}.outreach.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = (HEADER + "".join(line for _, line in rows)).encode("utf-8")
        path.write_bytes(data)
        history_bytes += len(data)

    meta = {"leads": leads, "history": history, "seed": seed, "risky": risky,
            "version": GENERATOR_VERSION, "today": today.isoformat(),
            "leads_bytes": len(leads_bytes), "history_bytes": history_bytes,
            "history_records": records, "history_files": len(days),
            "lost_contactable": len(maker.pool), "complete": True}
    (dest / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return meta
