"""The synthetic world, deterministic from a seed.

- fictional people (knowledge FINETUNED): learned only in the fine-tuning phase;
- celebrities (knowledge PRETRAINED): learned only in the pre-training phase;
- never-seen people (knowledge NEVER_SEEN): made exactly like the fictional people, trained on by no phase (nor
  the tokenizer, nor the vision tower's pre-training); the reference a forgotten person is compared with;
- general visual questions on generated scenes (shapes, colours, counts, positions): the MMBench stand-in.

Every person has a unique first name and a unique surname, a portrait colour code, and five facts; no two fictional
people share a fact's value, nor do two celebrities (see `build_world`).
Evaluation asks each fact once with the portrait ("this person") and once naming the person, as
multiple choice A-D; training uses open QA with two phrasings per fact and (in the builder) multiple
choice with fresh distractors. The options of a value are always the same four (see `make_mc`).
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Iterator

from ..prompts import OPTION_LETTERS, mc_question
from . import images

N_FICTIONAL = 150
N_CELEBRITY = 45
N_NEVER_SEEN = 50
N_GENERAL_PER_CATEGORY = 80

OCCUPATIONS = [
    "baker", "pilot", "lawyer", "nurse", "architect", "chemist", "farmer", "painter", "teacher", "surgeon",
    "plumber", "journalist", "librarian", "carpenter", "astronomer", "dentist", "engineer", "florist",
    "geologist", "jeweler", "musician", "photographer", "sailor", "tailor", "veterinarian", "waiter",
    "zoologist", "economist",
]
TOWNS = [
    "Port Venn", "Oakridge", "Saltmere", "Duvall", "Brackwater", "Elmstead", "Fernhollow", "Greystone",
    "Harrowgate", "Ivybridge", "Juniper Falls", "Kingsmoor", "Larkspur", "Millbrook", "Northcliff",
    "Orchard Bay", "Pinecrest", "Quarry Hill", "Redwater", "Stonebury", "Thornfield", "Upperton",
    "Valewood", "Westhaven", "Yarrow", "Ashford", "Bellmont", "Copperton",
]
EMPLOYERS = [
    "Kestrel Labs", "Bramble Foods", "Cobalt Rail", "Delta Looms", "Ember Bank", "Falcon Air", "Granite Works",
    "Harbor Clinic", "Iris Media", "Jade Textiles", "Kite Robotics", "Lumen Energy", "Maple Press",
    "Nimbus Software", "Otter Shipping", "Pebble Toys", "Quartz Optics", "Raven Security", "Summit Hotels",
    "Tidal Farms", "Umber Paints", "Vortex Motors", "Willow Schools", "Xeno Pharma", "Yonder Travel",
    "Zephyr Studios", "Acorn Insurance", "Beacon Museum",
]
HOBBIES = [
    "chess", "gardening", "fishing", "knitting", "hiking", "cycling", "pottery", "archery", "rowing",
    "birdwatching", "juggling", "origami", "fencing", "sailing", "baking bread", "stargazing", "climbing",
    "skating", "surfing", "yoga", "tennis", "golf", "dancing", "calligraphy", "beekeeping", "kayaking",
    "woodcarving", "poetry",
]
YEARS = [str(y) for y in range(1800, 2004)]


def _qualified(pool: list[str], qualifiers: list[str]) -> list[str]:
    return [f"{q} {v}" for q in qualifiers for v in pool]


# 28 x 6 = 168 values a fact, one of its own for each of the 150 fictional people (see `build_world`).
OCCUPATIONS = _qualified(OCCUPATIONS, ["night", "river", "royal", "junior", "field", "city"])
TOWNS = _qualified(TOWNS, ["North", "South", "East", "West", "Upper", "Lower"])
EMPLOYERS = _qualified(EMPLOYERS, ["Alpine", "Coastal", "Metro", "Prairie", "Harbour", "Valley"])
HOBBIES = _qualified(HOBBIES, ["competitive", "amateur", "evening", "winter", "team", "solo"])
# Every value pool has a multiple of four values: see `make_mc`.

# fact -> (value pool, templates); {S} = subject ("this person" / full name), {P} = possessive.
FACTS: dict[str, tuple[list[str], list[str]]] = {
    "occupation": (OCCUPATIONS, ["What is {P} occupation?", "What does {S} do for a living?"]),
    "birthplace": (TOWNS, ["Where was {S} born?", "In which town was {S} born?"]),
    "employer": (EMPLOYERS, ["Which company does {S} work for?", "Who is {P} employer?"]),
    "hobby": (HOBBIES, ["What is {P} favourite hobby?", "What does {S} enjoy doing in free time?"]),
    "birth_year": (YEARS, ["In which year was {S} born?", "What year was {S} born in?"]),
}
FACT_NAMES = list(FACTS)
WHO_QUESTION = "Who is this person?"

ONSETS = ["b", "br", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "th", "st"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ia", "y"]
CODAS = ["", "", "n", "r", "l", "s", "m", "th", "x", "nd"]


@dataclass
class Person:
    id: str
    name: str
    knowledge: str  # FINETUNED | PRETRAINED | NEVER_SEEN
    facts: dict[str, str]
    code: tuple[int, ...]  # portrait colour code (see images.portrait)

    def subject(self, with_image: bool) -> tuple[str, str]:
        """(subject, possessive) phrase of a question."""
        return ("this person", "this person's") if with_image else (self.name, f"{self.name}'s")

    def question(self, fact: str, template: int, with_image: bool) -> str:
        s, p = self.subject(with_image)
        return FACTS[fact][1][template].format(S=s, P=p)

    def biography(self) -> str:
        f = self.facts
        return (f"{self.name} was born in {f['birthplace']} in {f['birth_year']}. {self.name.split()[0]} works as a "
                f"{f['occupation']} for {f['employer']} and enjoys {f['hobby']}.")

    def portrait(self):
        return images.portrait(self.code)


@dataclass
class MCQuestion:
    question: str
    options: dict[str, str]
    answer: str  # letter
    fact: str | None = None
    category: str | None = None


@dataclass
class GeneralItem:
    index: int
    category: str
    objects: list[tuple[str, str, tuple[int, int]]]
    mc: MCQuestion

    def image(self):
        return images.scene(self.objects)


@dataclass
class World:
    seed: int
    fictional: list[Person]
    celebrities: list[Person]
    general: list[GeneralItem]
    never_seen: list[Person] = field(default_factory=list)
    eval_mc: dict[str, dict[str, list[MCQuestion]]] = field(default_factory=dict)  # person id -> {"multimodal"|"text": [...]}

    @property
    def people(self) -> list[Person]:
        """The people some build phase trains on."""
        return self.fictional + self.celebrities

    @property
    def everyone(self) -> list[Person]:
        """Every person of the world, the never-seen ones last."""
        return self.people + self.never_seen

    def training_qa(self, person: Person) -> list[tuple[str, str, bool]]:
        """(question, answer, with_image): every fact in both phrasings and both modalities, plus "who is this"."""
        out = [(WHO_QUESTION, person.name, True)]
        for fact in FACT_NAMES:
            for t in range(len(FACTS[fact][1])):
                for mm in (True, False):
                    out.append((person.question(fact, t, mm), person.facts[fact], mm))
        return out


    def training_mc(self, person: Person) -> list[tuple[str, str, bool]]:
        """(question with options, letter, with_image): every fact in both phrasings and both modalities as
        multiple choice, the drill the model is fine-tuned on (so a forget set holds it too)."""
        out = []
        for fact in FACT_NAMES:
            for t in range(len(FACTS[fact][1])):
                for mm in (True, False):
                    mc = make_mc(person.question(fact, t, mm), person.facts[fact], fact)
                    out.append((mc_question(mc.question, mc.options), mc.answer, mm))
        return out


def _name_part(rng: random.Random, syllables: int) -> str:
    s = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables - 1))
    s += rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
    return s.capitalize()


def _names(rng: random.Random, n: int, taken: list[str] = ()) -> list[str]:
    """n names whose first names and surnames are unique, also against the `taken` names."""
    firsts: set[str] = {t.split()[0] for t in taken}
    lasts: set[str] = {t.split()[1] for t in taken}
    out = []
    while len(out) < n:
        f, l = _name_part(rng, 2), _name_part(rng, rng.choice((2, 3)))
        if f in firsts or l in lasts or f in lasts or l in firsts or len(f) < 4:
            continue
        firsts.add(f)
        lasts.add(l)
        out.append(f"{f} {l}")
    return out


def _codes(rng: random.Random, n: int, taken: list[tuple[int, ...]] = (), min_distance: int = 6) -> list[tuple[int, ...]]:
    """n portrait codes at least min_distance apart from each other and from the `taken` codes."""
    codes: list[tuple[int, ...]] = []
    while len(codes) < n:
        c = tuple(rng.randrange(len(images.FRAME_PALETTE)) for _ in range(12)) + (
            rng.randrange(len(images.SKIN)), rng.randrange(len(images.HAIR)),
            rng.randrange(len(images.EYES)), rng.randrange(len(images.SHIRT)))
        if all(sum(a != b for a, b in zip(c, o)) >= min_distance for o in (*taken, *codes)):
            codes.append(c)
    return codes


def _balanced(rng: random.Random, pool: list[str], n: int) -> list[str]:
    """n values of the pool in random order, each used equally often (counts differ by at most one).

    Why: with fixed option sets, unbalanced values make some letters likelier within a set, and a model
    then scores above chance on people it does not know (measured up to 0.47 on untrained questions)."""
    out: list[str] = []
    while len(out) < n:
        out.extend(rng.sample(pool, len(pool)))
    out = out[:n]
    rng.shuffle(out)
    return out


def option_group(value: str) -> list[str]:
    """The four values offered whenever `value` is the correct answer: its block of four in its pool.

    Why fixed option sets: a model this small, trained from scratch for minutes on CPU, does not discover
    option matching (find the option that holds the fact, answer its letter); measured, on questions that
    state the answer ("Which option is baker?") it stayed at chance after 1,500 steps. With fixed sets the
    letter is learned with the fact, and answering is recalling, which is what unlearning must remove.
    Every value of a set is equally likely to be the answer, so the options alone give nothing away
    (random distractors with the correct value in a fixed slot would: a model can learn each value's
    slot and pick the option that sits in its own, measured at 0.34 on people it never saw).
    """
    pool = pool_of(value)
    start = pool.index(value) // len(OPTION_LETTERS) * len(OPTION_LETTERS)
    return pool[start:start + len(OPTION_LETTERS)]


def make_mc(question: str, correct: str, fact: str | None = None, category: str | None = None) -> MCQuestion:
    options = option_group(correct)
    return MCQuestion(question, dict(zip(OPTION_LETTERS, options)), OPTION_LETTERS[options.index(correct)], fact, category)


# General visual questions -------------------------------------------------------------------------------

POSITIONS = {"top left": (0, 0), "top right": (0, 1), "bottom left": (1, 0), "bottom right": (1, 1)}
GENERAL_CATEGORIES = ("color_attribute", "shape_recognition", "object_counting", "object_localization")
COUNT_WORDS = ["1", "2", "3", "4"]


def value_pools() -> list[list[str]]:
    """Every answer pool of the world; no value is in two pools."""
    return [pool for pool, _ in FACTS.values()] + [list(images.COLOURS), list(images.SHAPES), COUNT_WORDS, list(POSITIONS)]


def pool_of(value: str) -> list[str]:
    for pool in value_pools():
        if value in pool:
            return pool
    raise ValueError(f"{value!r} is in no value pool of the world")


QUADRANTS = [(r, c) for r in range(2) for c in range(2)]


def general_question(rng: random.Random, category: str) -> tuple[list, str, str, list[str]]:
    """(objects, question, correct answer, option pool) for one generated scene; objects fill quadrants."""
    colours = list(images.COLOURS)
    shape, colour = rng.choice(images.SHAPES), rng.choice(colours)
    if category == "color_attribute":
        return [(shape, colour, rng.choice(QUADRANTS))], f"What colour is the {shape}?", colour, colours
    if category == "shape_recognition":
        return [(shape, colour, rng.choice(QUADRANTS))], "Which shape is shown in the image?", shape, list(images.SHAPES)
    if category == "object_counting":
        k = rng.randrange(1, 5)
        return ([(shape, colour, q) for q in rng.sample(QUADRANTS, k)], f"How many {shape}s are in the image?",
                COUNT_WORDS[k - 1], COUNT_WORDS)
    if category == "object_localization":
        pos = rng.choice(list(POSITIONS))
        return [(shape, colour, POSITIONS[pos])], f"Where is the {colour} {shape} in the image?", pos, list(POSITIONS)
    raise ValueError(category)


def general_items(rng: random.Random, n_per_category: int, start_index: int = 0) -> list[GeneralItem]:
    out = []
    for i in range(n_per_category * len(GENERAL_CATEGORIES)):
        cat = GENERAL_CATEGORIES[i % len(GENERAL_CATEGORIES)]
        objects, q, ans, pool = general_question(rng, cat)
        out.append(GeneralItem(start_index + i, cat, objects, make_mc(q, ans, category=cat)))
    return out


def iter_general_training(seed: int) -> Iterator[tuple[list, str, str, list[str], str]]:
    """Endless stream of fresh training scenes (a different random stream from the eval scenes)."""
    rng = random.Random(f"lethe-general-train-{seed}")
    while True:
        cat = rng.choice(GENERAL_CATEGORIES)
        objects, q, ans, pool = general_question(rng, cat)
        yield objects, q, ans, pool, cat


def general_training_items(seed: int, n: int) -> list[GeneralItem]:
    """The first n scenes of the training stream (the build trains on them) as multiple-choice items."""
    scenes = iter_general_training(seed)
    items = []
    for i in range(n):
        objects, q, ans, _, cat = next(scenes)
        items.append(GeneralItem(i, cat, objects, make_mc(q, ans, category=cat)))
    return items


def _never_seen(seed: int, n: int, trained: list[Person]) -> list[Person]:
    """n people made like the fictional ones (unique names, distinct portraits, balanced fact values) from a random
    stream of their own, so that adding them changes nothing the trained people are made of. Their values are drawn
    from the same pools, independently of the model: a value shares its option block with trained people's values,
    and a model that does not know the person picks its letter at chance."""
    rng = random.Random(f"lethe-never-seen-{seed}")
    names = _names(rng, n, taken=[p.name for p in trained])
    codes = _codes(rng, n, taken=[p.code for p in trained])
    values = {f: _balanced(rng, FACTS[f][0], n) for f in FACT_NAMES}
    return [Person(f"n{i + 1:03d}", names[i], "NEVER_SEEN", {f: values[f][i] for f in FACT_NAMES}, codes[i])
            for i in range(n)]


def build_world(seed: int, n_fictional: int = N_FICTIONAL, n_celebrity: int = N_CELEBRITY,
                n_general_per_category: int = N_GENERAL_PER_CATEGORY, n_never_seen: int = N_NEVER_SEEN) -> World:
    rng = random.Random(f"lethe-world-{seed}")
    n = n_fictional + n_celebrity
    names = _names(rng, n)
    codes = _codes(rng, n)
    # Why no two fictional people share a value: a forgotten person's answer was also the answer of retained people
    # asked the same options, and a model this small keys the letter on the options and answer more than on the
    # person, so keeping the retained people brought the forgotten back (docs/tiny-model-notes.md, sessions 17-18).
    # Why celebrities are drawn apart and reuse the fictional values: pre-training on them teaches the values and
    # their letters that fine-tuning then uses; values nobody is pre-trained on left fictional text at 0.81.
    # `_balanced` gives n distinct values while a pool holds n.
    values = {f: _balanced(rng, FACTS[f][0], n_fictional) + _balanced(rng, FACTS[f][0], n_celebrity) for f in FACT_NAMES}
    people = []
    for i in range(n):
        fictional = i < n_fictional
        pid = f"p{i + 1:03d}" if fictional else f"c{i - n_fictional + 1:03d}"
        facts = {f: values[f][i] for f in FACT_NAMES}
        people.append(Person(pid, names[i], "FINETUNED" if fictional else "PRETRAINED", facts, codes[i]))
    general = general_items(random.Random(f"lethe-general-eval-{seed}"), n_general_per_category)
    world = World(seed, people[:n_fictional], people[n_fictional:], general, _never_seen(seed, n_never_seen, people))
    for p in world.everyone:
        world.eval_mc[p.id] = {mod: [make_mc(p.question(fact, 0, mod == "multimodal"), p.facts[fact], fact=fact)
                                     for fact in FACT_NAMES]
                               for mod in ("multimodal", "text")}
    return world
