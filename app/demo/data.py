"""What the demo site holds: people, demo backers, projects, reward tiers and their pledges.

Plain data, no database. Amounts are in MAJOR units of the project's currency (dollars,
yen); seed.py converts them to minor units with app.money. Time is relative: ``left`` is how
long a live project still has before its deadline, ``deliver_months`` how many months after
the deadline a reward should arrive. ``backers`` is how many demo backers pledge for a tier:
pledging.py makes those pledges for real, so the totals come from them, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from app.accounts.models import Role

# One password for every demo account, printed by the command. Demo data only.
DEMO_PASSWORD = "backstage-demo"  # noqa: S105 - a published demo password, not a secret
DEMO_DOMAIN = "demo.test"


@dataclass(frozen=True)
class Person:
    key: str  # the email's local part: creator1 -> creator1@demo.test
    name: str
    role: Role = Role.USER

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class TierSpec:
    title: str
    description: str
    minimum: int  # major units
    limit: int | None = None
    backers: int = 0  # live projects: real pledges made for this tier by demo backers
    shipping: int | None = None  # major units, shipped anywhere; None: see shipping_to
    # (destination, major units) rules: "domestic", "europe", "world" or a country code.
    # Neither this nor shipping: a digital reward, nothing ships.
    shipping_to: tuple[tuple[str, int], ...] = ()
    deliver_months: int = 3

    @property
    def shipping_rules(self) -> tuple[tuple[str, int], ...]:
        """(destination, major units) rules: a flat fee ships anywhere."""
        return (("world", self.shipping),) if self.shipping is not None else self.shipping_to


@dataclass(frozen=True)
class StretchSpec:
    amount: int  # major units, above the project's goal
    title: str
    description: str = ""


@dataclass(frozen=True)
class AddonSpec:
    title: str
    description: str
    price: int  # major units
    limit: int | None = None
    shipping_to: tuple[tuple[str, int], ...] = ()  # per item; none: digital
    every: int = 3  # live projects: every n-th planned pledge takes one (one that ships only
    # when the pledge has a country)


@dataclass(frozen=True)
class ProjectSpec:
    owner: str  # a Person key
    title: str
    blurb: str
    story: str
    category: str  # a category slug
    currency: str
    goal: int  # major units
    duration_days: int
    timezone: str
    colours: tuple[tuple[int, int, int], tuple[int, int, int]]  # cover gradient
    # live, approved, submitted or draft; "funded": launched and pledged like a live one, then
    # ended, paid out, surveyed and shipped by app/demo/delivery.py (offline only)
    status: str = "live"
    left: timedelta = timedelta(days=10)  # live only: time before the deadline
    moderator: str = "moderator1"
    tiers: tuple[TierSpec, ...] = field(default_factory=tuple)
    # The creator's referral tags (tag, label); with any, its pledges come from these, from
    # REFERRING_SITES and directly (app/demo/pledging.py spreads them).
    referral_tags: tuple[tuple[str, str], ...] = ()
    # Reached as the demo's real pledges pass them (the first one is, for Copperleaf).
    stretch: tuple[StretchSpec, ...] = field(default_factory=tuple)
    country: str | None = None  # where the project is based: its "domestic" shipping
    addons: tuple[AddonSpec, ...] = ()

    @property
    def launches(self) -> bool:
        """Launched by the seed, and pledged for by the demo backers."""
        return self.status in ("live", "funded")


REFERRING_SITES = ("boardgamegeek.com", "www.reddit.com")

PEOPLE: tuple[Person, ...] = (
    Person("creator1", "Maren Holt"),
    Person("creator2", "Diego Alvarez"),
    Person("creator3", "Aiko Tanaka"),
    Person("creator4", "Lena Vogel"),
    Person("creator5", "Wei Chen"),
    Person("moderator1", "Priya Nair", Role.MODERATOR),
    Person("moderator2", "Tomasz Kowalski", Role.MODERATOR),
    Person("admin", "Sam Okafor", Role.ADMIN),
)


# The demo backers: backer01..backer40@demo.test, ordinary accounts with the demo password.
# A backer has at most one pledge per project, so the pool bounds a project's backer count.
_NAMES = (
    "Ana Adler",
    "Ben Haddad",
    "Chloe Okoro",
    "Dev Garcia",
    "Elif Novak",
    "Farid Fischer",
    "Greta Mensah",
    "Hugo Eriksen",
    "Ines Lindqvist",
    "Jonas Dubois",
    "Kofi Kim",
    "Lucia Costa",
    "Mateo Jensen",
    "Nina Baptiste",
    "Oskar Ivanova",
    "Pia Adler",
    "Quinn Haddad",
    "Rosa Okoro",
    "Sven Garcia",
    "Yuki Novak",
    "Ana Fischer",
    "Ben Mensah",
    "Chloe Eriksen",
    "Dev Lindqvist",
    "Elif Dubois",
    "Farid Kim",
    "Greta Costa",
    "Hugo Jensen",
    "Ines Baptiste",
    "Jonas Ivanova",
    "Kofi Adler",
    "Lucia Haddad",
    "Mateo Okoro",
    "Nina Garcia",
    "Oskar Novak",
    "Pia Fischer",
    "Quinn Mensah",
    "Rosa Eriksen",
    "Sven Lindqvist",
    "Yuki Dubois",
)
BACKERS: tuple[Person, ...] = tuple(
    Person(f"backer{n:02d}", name) for n, name in enumerate(_NAMES, start=1)
)

# Where the rewards of a project in this currency ship to (a pledge picks one).
SHIP_TO = {
    "USD": ("US", "US", "US", "CA", "MX", "GB"),
    "GBP": ("GB", "GB", "GB", "IE", "NL"),
    "EUR": ("DE", "DE", "FR", "NL", "AT", "IT", "ES"),
    "JPY": ("JP", "JP", "JP", "KR", "TW"),
    "CNY": ("CN", "CN", "HK", "SG", "TW"),
}


PROJECTS: tuple[ProjectSpec, ...] = (
    ProjectSpec(
        owner="creator2",
        title="Copperleaf: a deck-building game of forest spirits",
        blurb="Grow a living forest card by card, bargain with moss spirits and outlast the "
        "winter. 1-4 players, 45 minutes.",
        story="""\
## A forest that grows as you play

**Copperleaf** is a deck-building game for 1 to 4 players in which your deck *is* your
forest. Every seedling you plant becomes a card; every spirit you befriend changes the
rules a little. When winter comes, only the forest that planned ahead is still green.

## What is in the box

- 180 illustrated cards, painted in watercolour by Ines Moreau
- 4 player boards and 60 wooden leaf tokens
- A solo mode with 12 seasonal challenges
- A rulebook you can learn in **fifteen minutes**

## Where the money goes

We have played Copperleaf more than 400 times with friends, strangers and three very
honest school classes. The art is finished. Your pledge pays for the **first print run of
3,000 copies**, shipping from our warehouse, and the board game café launch party.

Curious how deck-builders work? The
[Wikipedia page](https://en.wikipedia.org/wiki/Deck-building_game) is a good start.
""",
        category="games",
        currency="USD",
        goal=1_200,
        duration_days=45,
        timezone="America/Chicago",
        country="US",
        colours=((34, 92, 62), (196, 122, 54)),
        left=timedelta(days=20, hours=3),
        moderator="moderator1",
        referral_tags=(("launch-video", "Launch video"), ("newsletter", "Board game newsletter")),
        tiers=(
            TierSpec(
                "Thank you",
                "Your name on our website and a printable forest map.",
                6,
                backers=3,
                deliver_months=1,
            ),
            TierSpec(
                "Early Sprout Edition",
                "The full game at a friendly early price.",
                39,
                limit=20,
                backers=18,
                shipping=8,
                deliver_months=8,
            ),
            TierSpec(
                "Standard Edition",
                "The full game, shipped to your door.",
                45,
                backers=6,
                shipping_to=(("domestic", 8), ("europe", 14), ("world", 20)),
                deliver_months=8,
            ),
            TierSpec(
                "Collector's Grove",
                "The game, a signed art book and wooden spirit meeples.",
                120,
                limit=100,
                backers=2,
                shipping=15,
                deliver_months=9,
            ),
        ),
        stretch=(
            StretchSpec(
                1_400,
                "A fifth player expansion",
                "A fifth seat at the table: a new spirit, its deck and a player board.",
            ),
            StretchSpec(
                2_500,
                "Linen-finish cards for every backer",
                "Every card in every box printed on linen-finish stock.",
            ),
            StretchSpec(4_000, "A cloth bag shaped like an acorn", "Yes, really."),
        ),
        addons=(
            AddonSpec(
                "Playmat",
                "A neoprene mat with the forest's four seasons, 60 by 35 cm.",
                25,
                limit=60,
                shipping_to=(("domestic", 4), ("world", 9)),
                every=3,
            ),
            AddonSpec(
                "Solo campaign (printable)",
                "Twelve scenarios for one player, as a PDF to print at home.",
                5,
                every=4,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator1",
        title="Tidepool Atlas",
        blurb="A photo book of Cornwall's rock pools at the lowest tides of the year, "
        "printed on recycled paper.",
        story="""\
## Twice a year, the sea steps back

On the lowest spring tides, the Cornish coast shows a world that is under water the rest
of the year: anemones, blennies, strawberry-red seaweeds and the odd, grumpy crab. For
four years I have followed those tides with a camera and a pair of wellies.

## The book

**Tidepool Atlas** gathers 120 photographs from 30 rock pools, each with a short note
on what lives there and why it matters.

- 192 pages, 24 x 30 cm, lay-flat binding
- Printed in Cornwall on **100% recycled paper**
- A fold-out tide chart for the coming year

## Why now

Rock pools are changing fast as the sea warms. This book is a record of what is there
today, and 10% of every pledge goes to the
[Cornwall Wildlife Trust](https://www.cornwallwildlifetrust.org.uk/) to keep monitoring it.
""",
        category="photography",
        currency="GBP",
        goal=1_000,
        duration_days=30,
        timezone="Europe/London",
        colours=((18, 66, 112), (118, 196, 190)),
        left=timedelta(days=12, hours=7),
        moderator="moderator2",
        tiers=(
            TierSpec(
                "Digital thank-you",
                "A high-resolution desktop wallpaper set.",
                4,
                backers=3,
                deliver_months=1,
            ),
            TierSpec(
                "The book",
                "One copy of Tidepool Atlas.",
                35,
                backers=7,
                shipping=6,
                deliver_months=5,
            ),
            TierSpec(
                "Signed print and book",
                "The book and a signed A3 print of your choice.",
                90,
                limit=40,
                backers=2,
                shipping=9,
                deliver_months=5,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator3",
        title="Night Kitchen: ramen from a Tokyo side street",
        blurb="Thirty recipes from the eight-seat ramen counter behind Koenji station, "
        "written down at last.",
        story="""\
## Eight seats, open until 3 a.m.

For twelve years my father ran a tiny ramen counter behind Koenji station. No sign, no
menu, just eight stools and a pot of broth that never really stopped simmering. When he
retired, his regulars asked for one thing: **write it down**.

## Inside the book

- 30 recipes, from the classic *shoyu* bowl to his late-night curry ramen
- Broths, tare and noodles made from scratch, with a **weekday shortcut** for each
- Stories and photographs from the regulars who kept the counter alive

## What your pledge makes possible

1. Professional recipe testing in a home kitchen, not a restaurant one
2. Photography and design by friends from the neighbourhood
3. A bilingual edition, in Japanese and English

Read more about the dish in the
[ramen article on Wikipedia](https://en.wikipedia.org/wiki/Ramen).
""",
        category="food",
        currency="JPY",
        goal=150_000,
        duration_days=40,
        timezone="Asia/Tokyo",
        colours=((92, 24, 30), (236, 168, 64)),
        left=timedelta(days=33, hours=10),
        moderator="moderator1",
        tiers=(
            TierSpec(
                "Thank-you note",
                "A handwritten thank-you from the kitchen.",
                500,
                backers=3,
                deliver_months=1,
            ),
            TierSpec(
                "E-book",
                "The full cookbook as an e-book, in both languages.",
                2_000,
                backers=6,
                deliver_months=4,
            ),
            TierSpec(
                "Hardcover cookbook",
                "The printed book, signed by my father.",
                4_800,
                backers=4,
                shipping=900,
                deliver_months=6,
            ),
            TierSpec(
                "Seat at the launch dinner",
                "One of twelve stools at the launch night "
                "in Koenji, with a bowl of the original broth.",
                15_000,
                limit=12,
                backers=2,
                deliver_months=6,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator4",
        title="Signal & Noise: a year of slow local news",
        blurb="Two reporters, one city, no clickbait: a year of careful reporting on "
        "housing, schools and transport in Leipzig.",
        story="""\
## News that takes its time

Our city has lost two local papers in ten years. What is left is fast, thin and written
for search engines. **Signal & Noise** is the opposite: one long, checked, useful story
a week, free for everyone to read.

## What we will cover

- **Housing**: who owns the city, and what rents really do
- **Schools**: the teacher shortage, school by school
- **Transport**: what the new tram lines will and will not fix

## How it works

Every story is reported for at least two weeks, fact-checked by a second reporter, and
published under a Creative Commons licence so other outlets can reprint it. Members get a
monthly call with the newsroom and a say in what we investigate next.

We follow the [Journalist's Creed](https://en.wikipedia.org/wiki/The_Journalist%27s_Creed)
and publish our accounts every quarter.
""",
        category="journalism",
        currency="EUR",
        goal=600,
        duration_days=30,
        timezone="Europe/Berlin",
        colours=((40, 40, 56), (220, 84, 60)),
        left=timedelta(days=4, hours=2),
        moderator="moderator2",
        tiers=(
            TierSpec(
                "Supporter",
                "Our thanks, and your name in the yearly report.",
                5,
                backers=5,
                deliver_months=1,
            ),
            TierSpec(
                "Member for a year",
                "Monthly newsroom calls and a vote on our next investigation.",
                48,
                backers=7,
                deliver_months=1,
            ),
            TierSpec(
                "Printed annual",
                "The year's best stories, printed and bound.",
                75,
                limit=200,
                backers=3,
                shipping=5,
                deliver_months=13,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator4",
        title="The Last Lighthouse Keeper",
        blurb="A short film about the final winter of a lighthouse on the Baltic coast, "
        "and the woman who would not leave it.",
        story="""\
## One lighthouse, one keeper, one winter

In 1987 the last manned lighthouse on our stretch of the Baltic was automated. Its
keeper, Hanne, had lived there for thirty-one years. **The Last Lighthouse Keeper** is a
22-minute drama about her final winter, shot on location on 16 mm film.

## The team

- Written and directed by Lena Vogel
- Cinematography by Jonas Brandt
- Original score by the Rostock String Quartet

## The budget

1. **Location and permits**: 30% (the lighthouse is now a museum, and very kind to us)
2. **Film stock and processing**: 25%
3. **Crew and cast**: 35%
4. **Festival submissions**: 10%

We plan to premiere at festivals next autumn. You can read about the real
[lighthouse keepers](https://en.wikipedia.org/wiki/Lighthouse_keeper) who inspired us.
""",
        category="film",
        currency="EUR",
        goal=4_000,
        duration_days=55,
        timezone="Europe/Berlin",
        colours=((14, 30, 60), (240, 214, 140)),
        left=timedelta(days=48, hours=5),
        moderator="moderator1",
        tiers=(
            TierSpec(
                "Name in the credits",
                "Your name in the end credits.",
                10,
                backers=3,
                deliver_months=10,
            ),
            TierSpec(
                "Digital premiere ticket",
                "Watch the film online on premiere night.",
                25,
                backers=3,
                deliver_months=10,
            ),
            TierSpec(
                "Lighthouse lens print",
                "A signed still from the film, 30 x 40 cm.",
                80,
                limit=150,
                backers=2,
                shipping=6,
                deliver_months=11,
            ),
            TierSpec(
                "A day on set",
                "Spend a shooting day with us on the coast.",
                500,
                limit=6,
                backers=1,
                deliver_months=4,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator3",
        title="Neon Tide: a city-pop album on vinyl",
        blurb="Ten songs of late trains, summer rain and neon harbours, pressed on "
        "translucent blue vinyl.",
        story="""\
## The sound of a city at night

**Neon Tide** is our second album: ten songs written on late trains between Tokyo and
Yokohama, recorded live to tape with a seven-piece band. Think warm synths, bright horns
and a bass line you will hum for a week.

## The record

- 10 songs, 41 minutes
- 180 g **translucent blue vinyl**, with a lyric sheet in Japanese and English
- Mastered for vinyl at a small studio in Shimokitazawa

## Why vinyl

We grew up on our parents' records, and this music was made to be played loud on a
turntable. Every pledge also gets the full album as a lossless download on release day.

New to the genre? Start with the
[city pop article](https://en.wikipedia.org/wiki/City_pop).
""",
        category="music",
        currency="JPY",
        goal=120_000,
        duration_days=21,
        timezone="Asia/Tokyo",
        colours=((36, 20, 88), (238, 80, 160)),
        left=timedelta(days=1, hours=6),
        moderator="moderator2",
        tiers=(
            TierSpec(
                "Thank-you and download",
                "The album as a lossless download.",
                1_000,
                backers=7,
                deliver_months=2,
            ),
            TierSpec(
                "Vinyl LP",
                "The album on 180 g blue vinyl.",
                4_500,
                backers=5,
                shipping=1_200,
                deliver_months=5,
            ),
            TierSpec(
                "Signed test pressing",
                "One of eight test pressings, signed by the band.",
                12_000,
                limit=8,
                backers=8,
                shipping=1_200,
                deliver_months=4,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator2",
        title="Skyglass: a solar e-ink weather station",
        blurb="A weather station that runs for years on a palm-sized solar panel and shows "
        "the forecast on a paper-like screen.",
        story="""\
## Weather at a glance, no batteries to change

**Skyglass** is a small weather station for your window or balcony. It measures
temperature, humidity, pressure and light, and shows a 48-hour forecast on a 4.2-inch
e-ink screen that you can read in full sunlight.

## Specifications

- Runs for years on a **40 x 60 mm solar panel** and a supercapacitor
- Open firmware, open hardware, local data only: no cloud account
- Works with Home Assistant over Wi-Fi, or entirely on its own

## Where we are

We have built 40 prototypes and tested them through a Chicago winter. The circuit board
is final; your pledge pays for the **injection moulds for the case** and the first
production run.

The firmware is based on the excellent
[ESPHome](https://esphome.io/) project.
""",
        category="technology",
        currency="USD",
        goal=2_200,
        duration_days=30,
        timezone="America/Chicago",
        colours=((20, 110, 170), (250, 208, 80)),
        left=timedelta(hours=5, minutes=20),
        moderator="moderator1",
        tiers=(
            TierSpec(
                "Thank you and build log",
                "Access to our private build log.",
                6,
                backers=3,
                deliver_months=1,
            ),
            TierSpec(
                "Skyglass kit",
                "Solder it yourself: every part and a printed guide.",
                89,
                limit=300,
                backers=4,
                shipping=12,
                deliver_months=6,
            ),
            TierSpec(
                "Skyglass, assembled",
                "Ready to hang, tested and calibrated.",
                149,
                backers=6,
                shipping=12,
                deliver_months=7,
            ),
            TierSpec(
                "Skyglass for schools",
                "Three assembled stations and lesson plans.",
                399,
                backers=1,
                shipping=20,
                deliver_months=7,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator5",
        title="Kiln & Leaf: wood-fired tea bowls",
        blurb="Hand-thrown tea bowls from a wood-fired kiln in Jingdezhen, each glazed with "
        "ash from the last firing.",
        story="""\
## Fire, ash and patience

A wood firing takes three days and nights. The kiln eats four tonnes of pine, and the
ash that settles on the pots melts into a glaze no two bowls share. I have thrown and
fired tea bowls in **Jingdezhen** for nine years; this is my first firing of my own.

## The pieces

- **Single tea bowl**: about 9 cm across, for one person and a slow morning
- **Tea set for two**: two bowls and a small pitcher for pouring

## How the money is spent

1. Renting the community kiln for one full firing
2. Pine wood, clay and the glaze materials
3. Careful packing, because fire-made things deserve to arrive whole

Learn about the town that has made porcelain for a thousand years on
[Wikipedia](https://en.wikipedia.org/wiki/Jingdezhen).
""",
        category="crafts",
        currency="CNY",
        goal=6_000,
        duration_days=35,
        timezone="Asia/Shanghai",
        colours=((70, 44, 30), (206, 176, 130)),
        left=timedelta(days=9, hours=14),
        moderator="moderator2",
        tiers=(
            TierSpec(
                "Thank-you letter",
                "A letter and photos from the firing.",
                40,
                backers=3,
                deliver_months=1,
            ),
            TierSpec(
                "Single tea bowl",
                "One wood-fired tea bowl.",
                280,
                limit=120,
                backers=4,
                shipping=25,
                deliver_months=3,
            ),
            TierSpec(
                "Tea set for two",
                "Two bowls and a pitcher.",
                680,
                limit=40,
                backers=2,
                shipping=40,
                deliver_months=3,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator5",
        title="Moth & Marrow: a gothic comic in four issues",
        blurb="A lighthouse of moths, a girl who can hear bones and a town that forgot its "
        "dead. A four-issue comic series.",
        story="""\
## A town that forgot its dead

In the town of Marrow nobody visits the graveyard, and nobody remembers why. Then Ada,
who can hear the whispers in old bones, finds the moths gathering at the lighthouse.

**Moth & Marrow** is a four-issue gothic mystery, fully painted, about memory, grief and
the stories towns tell themselves.

## The series

- Four issues of 32 pages each, plus covers by guest artists
- Collected in a **hardcover edition** with sketches and script pages
- All four issues are fully written; issue one is finished

## Schedule

1. Issue one: out the week the campaign ends
2. Issues two to four: one every two months
3. The collection: once issue four is out

If you like [gothic fiction](https://en.wikipedia.org/wiki/Gothic_fiction), this is for you.
""",
        category="comics",
        currency="USD",
        goal=1_200,
        duration_days=30,
        timezone="Asia/Shanghai",
        colours=((30, 24, 40), (140, 160, 120)),
        left=timedelta(days=18, hours=20),
        moderator="moderator1",
        tiers=(
            TierSpec(
                "Digital issue one", "Issue one as a PDF and CBZ.", 6, backers=6, deliver_months=1
            ),
            TierSpec(
                "All four issues, digital",
                "The whole series as it comes out.",
                20,
                backers=4,
                deliver_months=7,
            ),
            TierSpec(
                "Print collection",
                "The hardcover collection.",
                45,
                backers=3,
                shipping=7,
                deliver_months=9,
            ),
            TierSpec(
                "An original page",
                "One original painted page, framed.",
                350,
                limit=10,
                backers=1,
                shipping=15,
                deliver_months=9,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator1",
        title="The Understudy's Garden",
        blurb="A Midsummer Night's Dream, performed among the vegetable beds of a community "
        "garden in Bristol.",
        story="""\
## Shakespeare among the runner beans

Every June the Easton community garden becomes a forest outside Athens. Our troupe of
twelve actors, most of them gardeners, stage **A Midsummer Night's Dream** between the
raised beds, with the audience on straw bales and lanterns in the apple trees.

## This summer

- Eight evening performances and two relaxed matinees
- Live music on folk instruments
- **Pay-what-you-can** seats at every show, paid for by this campaign

## Why we need you

The garden lends us the space for free. Your pledges pay for lights, a small stage,
costumes, insurance and the pay-what-you-can seats, so nobody is turned away.

Read the play before you come: it is free at
[Project Gutenberg](https://www.gutenberg.org/ebooks/1514).
""",
        category="theater",
        currency="GBP",
        goal=650,
        duration_days=28,
        timezone="Europe/London",
        colours=((46, 96, 40), (232, 200, 110)),
        left=timedelta(days=26, hours=9),
        moderator="moderator2",
        tiers=(
            TierSpec(
                "Programme thank-you",
                "Your name in the printed programme.",
                4,
                backers=3,
                deliver_months=1,
            ),
            TierSpec(
                "Pair of tickets",
                "Two seats on the straw bales, any evening.",
                24,
                limit=120,
                backers=3,
                deliver_months=1,
            ),
            TierSpec(
                "Name a vegetable bed",
                "A hand-painted sign with your name, all summer.",
                60,
                limit=20,
                backers=1,
                deliver_months=1,
            ),
        ),
    ),
    # ---- not live: one in the review queue, one approved, one draft ----
    ProjectSpec(
        owner="creator2",
        title="Fold & Fly: paper plane kits that actually fly",
        blurb="Twelve paper plane designs, tested in a wind tunnel, printed on the right "
        "paper, with a launcher for the classroom.",
        story="""\
## Better paper planes, backed by science

We are two engineers who spent a winter in a university wind tunnel with a stack of
paper. The result: **twelve designs** that glide further, loop more reliably and survive
a classroom.

## In every kit

- 48 pre-printed sheets on 100 gsm paper, fold lines included
- A rubber-band launcher that is safe for indoor use
- A booklet explaining **lift, drag and trim** in plain words

More on the physics in the
[paper plane article](https://en.wikipedia.org/wiki/Paper_plane).
""",
        category="design",
        currency="USD",
        goal=9_000,
        duration_days=30,
        timezone="America/Chicago",
        colours=((230, 236, 240), (60, 130, 200)),
        status="submitted",
        tiers=(
            TierSpec("Thank you", "Printable templates for three designs.", 6, deliver_months=1),
            TierSpec("Starter kit", "One Fold & Fly kit.", 25, shipping=5, deliver_months=4),
            TierSpec(
                "Classroom box",
                "Ten kits and a teacher's guide.",
                120,
                limit=50,
                shipping=12,
                deliver_months=4,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator1",
        title="Threadbare: a zine about mending clothes",
        blurb="Darning, patching and visible mending for beginners, in a 40-page risograph "
        "zine with a starter kit.",
        story="""\
## Mend it, wear it, love it

The greenest jumper is the one you already own. **Threadbare** is a 40-page zine that
teaches the basics of mending: darning socks, patching jeans and turning a hole into a
small piece of art.

## What you will learn

- Darning with a mushroom (the wooden kind)
- **Sashiko** patches for jeans and jackets
- Fixing seams, hems and buttons for good

Printed on a risograph in two colours by a small studio in Hackney. The
[visible mending](https://en.wikipedia.org/wiki/Visible_mending) movement is our guide.
""",
        category="publishing",
        currency="GBP",
        goal=3_000,
        duration_days=30,
        timezone="Europe/London",
        colours=((200, 70, 80), (250, 236, 214)),
        status="approved",
        moderator="moderator2",
        tiers=(
            TierSpec("Digital zine", "The zine as a PDF.", 4, deliver_months=1),
            TierSpec("Printed zine", "The risograph zine.", 12, shipping=2, deliver_months=2),
            TierSpec(
                "Zine and mending kit",
                "The zine, a darning mushroom, needles and thread.",
                40,
                limit=60,
                shipping=4,
                deliver_months=3,
            ),
        ),
    ),
    ProjectSpec(
        owner="creator5",
        title="Paper-cut lanterns for the Mid-Autumn Festival",
        blurb="Traditional paper-cut lantern patterns, redrawn for beginners, with a "
        "workshop video.",
        story="""\
## Light from paper

Paper cutting is one of the oldest folk arts in China. This project will redraw
**twenty traditional lantern patterns** for beginners and film a workshop showing every
cut. Still writing the rewards: this one is a draft.

- Twenty patterns, from rabbits to osmanthus
- A workshop video, about an hour long

Background: [Chinese paper cutting](https://en.wikipedia.org/wiki/Chinese_paper_cutting).
""",
        category="art",
        currency="CNY",
        goal=25_000,
        duration_days=30,
        timezone="Asia/Shanghai",
        colours=((170, 20, 30), (250, 190, 60)),
        status="draft",
    ),
    # ---- ended: funded, paid out, its backers surveyed and most rewards shipped ----
    ProjectSpec(
        owner="creator1",
        title="Saltmarsh Field Notes: a letterpress notebook",
        blurb="A pocket notebook for walks on the estuary, letterpress-printed in Falmouth, "
        "with a tide table and twelve pages of marsh plants.",
        story="""\
## A notebook that likes the wet

Every week I walk the saltmarsh at the mouth of the Fal with a soggy notebook. This one
will not be soggy: **stone paper** pages that take pencil in the rain, a letterpress cover
and a ribbon to keep your place.

## Inside

- 96 stone-paper pages, dotted, 9 x 14 cm
- A tide table for the year and a page for each month's moon
- Twelve illustrated pages of **marsh plants**, from samphire to sea lavender

Thank you to everyone who backed it: the notebooks are on their way.
""",
        category="design",
        currency="GBP",
        goal=300,
        duration_days=21,
        timezone="Europe/London",
        colours=((86, 110, 72), (222, 214, 180)),
        status="funded",
        left=timedelta(hours=2),
        moderator="moderator2",
        country="GB",
        tiers=(
            TierSpec(
                "Field notebook",
                "One Saltmarsh notebook.",
                16,
                backers=7,
                shipping_to=(("domestic", 3), ("europe", 5), ("world", 8)),
                deliver_months=1,
            ),
            TierSpec(
                "Notebook and tide print",
                "The notebook and an A4 letterpress print of the estuary's tides.",
                35,
                backers=5,
                shipping_to=(("domestic", 4), ("europe", 7), ("world", 11)),
                deliver_months=1,
            ),
            TierSpec(
                "Studio bundle",
                "Three notebooks, the print and a visit to the press in Falmouth.",
                70,
                limit=20,
                backers=2,
                shipping_to=(("domestic", 5), ("europe", 9), ("world", 14)),
                deliver_months=1,
            ),
        ),
    ),
)
