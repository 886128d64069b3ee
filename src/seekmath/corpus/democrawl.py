"""A generated mini-crawl: real WARC.gz shards of HTML pages with ground-truth labels.

The embedded default of the corpus stage (`seekmath corpus demo-crawl`). It stands in for Common
Crawl so the whole DeepSeekMath corpus pipeline (§2.1: fastText recall, domain discovery, URL-path
annotation, dedup, decontamination) runs offline in seconds and can be scored against labels:

- math domains — Q&A sites (`/questions/`), problem sets (`/problems/`), a forum (`/t/`), a KaTeX
  lesson site and a MathML wiki — whose pages carry worked solutions in MathJax, KaTeX, MathML or
  plain text, plus a few non-math pages of their own (`/users/`, `/about`, `/help/`);
- hidden math: mostly non-math blogs (baking, teaching, tech, a school) with a math section under one
  URL path (`/math/`, `/puzzles/`, …) — what §1.4's domain statistics and path annotation must find;
- non-math domains: news, recipes, sports, shops, travel, film, property, jobs, weather, health,
  gardening, cars, music — templates and word lists, many of them full of numbers;
- near-duplicates (label `near_duplicate`): a page copied to another URL with a small edit;
- planted benchmark text (label `contamination`): real GSM8K / MATH-500 questions when the benchmark
  files are present, and problems of the synthetic TEST split — the held-out set the tiny recipe
  evaluates on, so decontamination must remove them;
- records that a reader must skip: undeclared non-UTF-8 bodies, non-HTML responses, non-200
  responses, one oversized page, corrupt gzip members and garbage between members. They are not in
  `labels.jsonl`; their counts are in `demo_crawl.json` (`expected_skips`).

Most math pages use the synthetic task family's TRAIN split (`seekmath.tasks.synthetic`) so a model
pretrained on the mined corpus learns the task it is later evaluated on; other families (equations,
fractions, percentages, quadratics, derivatives, series, gcd, probability, geometry) give the
classifier variety. Everything is deterministic for (pages, seed, tasks config): same bytes out.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import io
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PAGES_PER_SHARD = 500
BASE_DATE = datetime(2024, 5, 1, tzinfo=timezone.utc)

# ------------------------------------------------------------------------------------------ sites


@dataclass
class Site:
    host: str
    kind: str  # math | hidden | nonmath | mirror
    name: str
    style: str = "mathjax"  # how math is marked up on this site
    math_path: str = ""  # hidden sites: the section holding math
    genres: list[str] = field(default_factory=list)  # non-math genres the site publishes
    weight: float = 1.0


MATH_SITES = [
    Site("www.mathanswers.net", "math", "Math Answers", "mathjax", "/questions/", ["community"], 1.4),
    Site("problemsolving.org", "math", "Problem Solving Club", "plain", "/problems/", ["org"], 1.2),
    Site("forum.algebracafe.com", "math", "Algebra Cafe Forum", "mathjax", "/t/", ["community"], 1.0),
    Site("calcnotes.io", "math", "CalcNotes", "katex", "/lessons/", ["org"], 0.8),
    Site("www.mathwiki.org", "math", "MathWiki", "mathml", "/wiki/", ["org"], 0.7),
]
HIDDEN_SITES = [
    Site("www.sarahbakes.com", "hidden", "Sarah Bakes", "plain", "/math/", ["recipe"], 1.0),
    Site("teachersroom.blog", "hidden", "The Teachers' Room", "mathjax", "/math-corner/", ["school", "health"], 1.0),
    Site("linuxtinker.io", "hidden", "Linux Tinker", "katex", "/math/", ["tech"], 1.0),
    Site("greenvalleyschool.org", "hidden", "Green Valley School", "plain", "/homework/math/", ["school"], 1.0),
    Site("weekendpuzzler.net", "hidden", "The Weekend Puzzler", "mathjax", "/puzzles/", ["travel", "music"], 0.8),
    Site("www.dailyridge.com", "hidden", "The Daily Ridge", "plain", "/education/math/", ["news", "sports"], 1.2),
]
NONMATH_SITES = [
    Site("www.citytribune.com", "nonmath", "City Tribune", genres=["news"], weight=1.5),
    Site("northernherald.co.uk", "nonmath", "Northern Herald", genres=["news", "weather"], weight=1.2),
    Site("www.bizwire-daily.com", "nonmath", "BizWire Daily", genres=["news"], weight=1.0),
    Site("www.homecookbook.com", "nonmath", "Home Cookbook", genres=["recipe"], weight=1.4),
    Site("quickdinners.net", "nonmath", "Quick Dinners", genres=["recipe"], weight=1.0),
    Site("vegangarden.kitchen", "nonmath", "Vegan Garden Kitchen", genres=["recipe", "garden"], weight=0.8),
    Site("www.sportsdesk.com", "nonmath", "SportsDesk", genres=["sports"], weight=1.4),
    Site("fieldandgoal.net", "nonmath", "Field & Goal", genres=["sports"], weight=1.0),
    Site("runnersdiary.org", "nonmath", "Runner's Diary", genres=["sports", "health"], weight=0.7),
    Site("shop.gadgetbarn.com", "nonmath", "Gadget Barn", genres=["product"], weight=1.4),
    Site("www.homegoods-outlet.com", "nonmath", "HomeGoods Outlet", genres=["product"], weight=1.2),
    Site("www.bikeparts.store", "nonmath", "BikeParts Store", genres=["product"], weight=0.8),
    Site("outdoorgear.shop", "nonmath", "Outdoor Gear", genres=["product", "travel"], weight=0.8),
    Site("www.wanderlustlog.com", "nonmath", "Wanderlust Log", genres=["travel"], weight=1.2),
    Site("citybreaks.travel", "nonmath", "City Breaks", genres=["travel"], weight=0.9),
    Site("www.reelreviews.com", "nonmath", "Reel Reviews", genres=["movie"], weight=1.1),
    Site("popcornweekly.net", "nonmath", "Popcorn Weekly", genres=["movie", "music"], weight=0.8),
    Site("www.techverdict.com", "nonmath", "TechVerdict", genres=["tech", "product"], weight=1.1),
    Site("devnotes.blog", "nonmath", "Dev Notes", genres=["tech"], weight=0.8),
    Site("www.openhouse-listings.com", "nonmath", "OpenHouse Listings", genres=["realestate"], weight=1.0),
    Site("rentersguide.net", "nonmath", "Renter's Guide", genres=["realestate"], weight=0.7),
    Site("www.careerboard.jobs", "nonmath", "CareerBoard", genres=["job"], weight=1.0),
    Site("localjobs.net", "nonmath", "LocalJobs", genres=["job"], weight=0.7),
    Site("www.skywatch-weather.com", "nonmath", "SkyWatch Weather", genres=["weather"], weight=0.8),
    Site("www.wellnesstoday.com", "nonmath", "Wellness Today", genres=["health"], weight=1.0),
    Site("familydoctor-tips.org", "nonmath", "Family Doctor Tips", genres=["health"], weight=0.7),
    Site("www.backyardgrower.com", "nonmath", "Backyard Grower", genres=["garden"], weight=0.9),
    Site("autoreview.net", "nonmath", "AutoReview", genres=["car"], weight=1.0),
    Site("www.classiccarclub.org", "nonmath", "Classic Car Club", genres=["car", "community"], weight=0.6),
    Site("www.indiesoundcheck.com", "nonmath", "Indie Soundcheck", genres=["music"], weight=0.8),
    Site("www.petcorner.net", "nonmath", "Pet Corner", genres=["pets"], weight=0.8),
    Site("diyhomefix.com", "nonmath", "DIY Home Fix", genres=["diy"], weight=0.9),
]
MIRROR_SITES = [
    Site("answerscopy.info", "mirror", "Answers Copy", "mathjax"),
    Site("www.webmirror-archive.net", "mirror", "Web Mirror Archive", "plain"),
]

# ------------------------------------------------------------------------------------------ words

FIRST = ["Alex", "Maria", "Sam", "Priya", "Jonas", "Chen", "Fatima", "Lucas", "Hannah", "Diego", "Aisha", "Tom",
         "Elena", "Kofi", "Mei", "Oliver", "Sofia", "Ivan", "Grace", "Mateo", "Nina", "Ahmed", "Clara", "Ravi"]
LAST = ["Smith", "Garcia", "Okafor", "Novak", "Tanaka", "Müller", "Rossi", "Kowalski", "Haddad", "Jensen",
        "Silva", "Nguyen", "Brown", "Dubois", "Patel", "Larsen", "Moreau", "Kim", "Walsh", "Costa"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Brookhaven", "Millbrook", "Oakridge", "Fairview", "Kingsport",
          "Ashford", "Westfield", "Harbor City", "Pine Hill", "Northgate", "Eastwood", "Silverton", "Maplewood"]
TEAMS = ["Rovers", "United", "Falcons", "Tigers", "Wanderers", "Rangers", "Comets", "Pirates", "Lions",
         "Hornets", "Athletic", "Mariners", "Bulldogs", "Harriers"]
SPORTS = ["football", "basketball", "hockey", "rugby", "baseball", "volleyball", "handball", "cricket"]
DISHES = ["lemon chicken", "mushroom risotto", "lentil soup", "banana bread", "beef stew", "pad thai",
          "tomato pasta", "apple crumble", "vegetable curry", "fish tacos", "pumpkin pie", "garlic prawns",
          "shakshuka", "chili con carne", "spinach quiche", "carrot cake"]
INGREDIENTS = ["flour", "butter", "sugar", "eggs", "milk", "olive oil", "garlic", "onion", "tomatoes",
               "rice", "lentils", "chicken thighs", "lemon juice", "cumin", "paprika", "cream", "basil",
               "parmesan", "yeast", "honey", "spinach", "mushrooms", "stock", "ginger", "soy sauce"]
UNITS = ["g", "ml", "cups", "tablespoons", "teaspoons", "cloves", "pinch of", "handful of"]
PRODUCTS = ["wireless earbuds", "espresso machine", "standing desk", "robot vacuum", "trail backpack",
            "smartwatch", "air fryer", "electric kettle", "mechanical keyboard", "4K monitor", "road bike helmet",
            "camping stove", "office chair", "noise-cancelling headphones", "blender", "LED desk lamp"]
BRANDS = ["Nordlux", "Zentro", "Apexa", "Kivo", "Brightline", "Oakmont", "Veloce", "Summit", "Lumio", "Harbor"]
FEATURES = ["long battery life", "a brushed steel finish", "fast charging", "a two-year warranty", "quiet operation",
            "a compact design", "a water-resistant shell", "adjustable settings", "a detachable cable",
            "a bright display", "easy cleaning", "a sturdy frame", "soft-touch buttons", "Bluetooth pairing"]
PLACES = ["Lisbon", "Kyoto", "Cape Town", "Reykjavik", "Valparaíso", "Tallinn", "Hoi An", "Marrakesh",
          "Edinburgh", "Oaxaca", "Ljubljana", "Hobart", "Porto", "Bergen", "Cusco", "Seville"]
SIGHTS = ["the old harbour", "a hilltop castle", "the covered market", "a quiet botanical garden",
          "the cathedral square", "a street-food alley", "the river promenade", "a tiny jazz bar",
          "the modern art museum", "a lighthouse trail", "the night market", "a hot-spring bath"]
GENRES = ["thriller", "comedy", "drama", "documentary", "animated feature", "science-fiction epic", "romance", "western"]
ADJ = ["stunning", "quiet", "busy", "generous", "surprising", "modest", "cheerful", "gloomy", "bold",
       "careful", "lively", "clumsy", "polished", "rough", "gentle", "fierce", "reliable", "charming"]
TOPICS = ["the new bridge", "council budgets", "the harbour redevelopment", "school lunches", "bus routes",
          "the summer festival", "a water main repair", "the library extension", "local elections",
          "the farmers' market", "hospital parking", "the cycling lane plan", "a museum donation"]
JOBS = ["warehouse associate", "line cook", "junior accountant", "delivery driver", "dental assistant",
        "software tester", "barista", "electrician", "customer support agent", "graphic designer", "nurse"]
PLANTS = ["tomatoes", "courgettes", "lavender", "runner beans", "strawberries", "roses", "basil",
          "garlic", "sunflowers", "potatoes", "blueberries", "dahlias"]
CARS = ["hatchback", "estate car", "pickup truck", "compact SUV", "electric saloon", "roadster", "minivan"]
PETS = ["puppy", "kitten", "rabbit", "parrot", "older dog", "rescue cat", "guinea pig"]
BANDS = ["The Velvet Pines", "Northern Static", "Copper Lanterns", "Glass Harbour", "Midnight Orchard", "Saltwater Kids"]

# ------------------------------------------------------------------------------------------ non-math text


def _fill(rng: random.Random, template: str, extra: dict | None = None) -> str:
    def slot(m: re.Match) -> str:
        key = m.group(1)
        if extra and key in extra:
            return str(extra[key])
        if key == "n":
            return str(rng.randint(2, 99))
        if key == "big":
            return f"{rng.randint(2, 950):,}"
        if key == "year":
            return str(rng.randint(1995, 2024))
        if key == "price":
            return f"{rng.randint(9, 899)}.{rng.choice(['99', '00', '50', '95'])}"
        if key == "pct":
            return str(rng.randint(2, 60))
        if key == "person":
            return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        pools = {"city": CITIES, "team": TEAMS, "sport": SPORTS, "dish": DISHES, "ing": INGREDIENTS,
                 "product": PRODUCTS, "brand": BRANDS, "feature": FEATURES, "place": PLACES, "sight": SIGHTS,
                 "genre": GENRES, "adj": ADJ, "topic": TOPICS, "job": JOBS, "plant": PLANTS, "car": CARS,
                 "pet": PETS, "band": BANDS, "first": FIRST, "unit": UNITS}
        return rng.choice(pools[key])

    return re.sub(r"\{(\w+)\}", slot, template)


GENRE_TEXT: dict[str, tuple[list[str], list[str]]] = {
    # genre: (title templates, sentence templates)
    "news": (["{city} council votes on {topic}", "Residents divided over {topic} in {city}",
              "{person} named new head of {city} transport board", "What the {topic} means for {city}"],
             ["The council met on Tuesday evening to discuss {topic}, and the debate ran for {n} minutes.",
              "{person}, who chairs the planning committee, said the decision was {adj} but necessary.",
              "Around {big} residents signed a petition before the meeting.",
              "Local shop owners in {city} fear the works will keep customers away for months.",
              "A spokesperson promised that the plans would be published online next week.",
              "Opposition members called the proposal {adj} and asked for an independent review.",
              "The project was first proposed in {year} but stalled after a change of leadership.",
              "Officials expect a final vote before the end of the summer recess.",
              "Commuters told reporters that delays on the main road had become part of daily life.",
              "The mayor thanked volunteers who cleaned up the riverside after last month's storm."]),
    "recipe": (["Easy {dish} for busy weeknights", "My grandmother's {dish}", "The best {dish} you will ever make",
                "One-pan {dish} in under an hour"],
               ["Add {n} {unit} {ing} and stir gently until everything is combined.",
                "Preheat the oven to {n}0 degrees and grease a large baking dish.",
                "Chop the {ing} finely and fry it in a splash of olive oil until soft and golden.",
                "Season with salt, pepper and a pinch of {ing}, then taste and adjust.",
                "Let it simmer for {n} minutes, stirring every so often so nothing sticks.",
                "This {dish} keeps in the fridge for three days and freezes well.",
                "Serve warm with crusty bread or a simple green salad.",
                "My kids ask for this {dish} every week, and it never lasts long.",
                "If you cannot find {ing}, {ing} works just as well.",
                "Whisk the {ing} with the {ing} until smooth and glossy."]),
    "sports": (["{team} edge past {team} in {adj} derby", "Match report: {team} {n1}-{n2} {team}",
                "{person} stars as {team} keep title hopes alive", "{team} coach praises {adj} defence"],
               ["The {team} took the lead after {n} minutes through a header from {person}.",
                "A crowd of {big} watched a {adj} first half at the {city} stadium.",
                "{person} was substituted at half time with a knee injury.",
                "The visitors pressed hard late on but could not find an equaliser.",
                "The result leaves the {team} in fourth place, two points behind the leaders.",
                "Their coach said the players had shown a {adj} attitude all week in training.",
                "Next up is a trip to {city} on Saturday afternoon.",
                "Fans sang throughout the second half despite the rain.",
                "It was the club's first win against the {team} since {year}."]),
    "product": (["{brand} {product} – {feature}", "{brand} {product} (model {n}{n})", "Buy the {brand} {product} online"],
                ["The {brand} {product} comes with {feature} and {feature}.",
                 "Price: ${price}. Free delivery on orders over $50.",
                 "Customer rating: {n1}.{n2} out of 5 from {big} reviews.",
                 "In the box: the {product}, a quick start guide and a USB-C cable.",
                 "Reviewers love its {feature}, though some wish it had {feature}.",
                 "Available in black, silver and forest green.",
                 "Order before 3 pm for next-day dispatch.",
                 "Dimensions: {n} x {n} x {n} cm, weight {n}0 g.",
                 "\"Works exactly as described, {adj} value for money,\" wrote one buyer."]),
    "travel": (["{n} things to do in {place}", "A {adj} weekend in {place}", "Why {place} stole my heart",
                "Getting around {place} on a budget"],
               ["We arrived in {place} late at night and headed straight for {sight}.",
                "The next morning we wandered past {sight} and stopped for coffee.",
                "A day ticket for the trams costs about {n} euros and covers most of the city.",
                "Locals recommended {sight}, and it was the highlight of the trip.",
                "If you only have one day, skip the queues and book tickets online.",
                "Our guesthouse was {adj}, clean and ten minutes from the station.",
                "The weather changed every hour, so pack a light rain jacket.",
                "Dinner at a family-run place near {sight} was the best meal of the trip."]),
    "movie": (["Review: '{adj} Hours' is a {adj} {genre}", "{person} shines in new {genre}",
               "Streaming this week: a {adj} {genre} and more"],
              ["{person} plays a retired detective pulled back into one last case.",
               "The film runs {n}0 minutes and never quite finds its rhythm.",
               "The score by {person} is {adj} and memorable.",
               "Critics have called it the most {adj} {genre} of {year}.",
               "The second act drags, but the ending lands with real force.",
               "It opens in cinemas on Friday and streams from next month.",
               "Rating: {n1} stars out of 5."]),
    "tech": (["Hands-on with the {brand} {product}", "How I fixed my slow home network",
              "Setting up a home server with an old laptop", "{brand} announces new {product}"],
             ["After {n} days of testing, the {product} still impresses.",
              "The setup took about {n} minutes, including firmware updates.",
              "Battery life averaged {n} hours with the screen at half brightness.",
              "I edited the config file, restarted the service and the error was gone.",
              "The companion app is {adj} but still lacks a dark mode.",
              "Performance is {adj} for the price, although the fans get loud under load.",
              "You can install the package from the repository with a single command.",
              "Check the logs first; nine times out of ten the answer is there."]),
    "realestate": (["{n}-bedroom house for sale in {city}", "Bright flat near {city} station",
                    "Family home with garden, {city}"],
                   ["Asking price ${big},000, with offers considered.",
                    "The property has {n1} bedrooms, {n2} bathrooms and a south-facing garden.",
                    "Recently renovated kitchen with {feature}.",
                    "Council tax band C; energy rating B.",
                    "Within walking distance of shops, schools and the {city} park.",
                    "Viewings by appointment only on weekends.",
                    "Floor area approximately {n}0 square metres."]),
    "job": (["{job} wanted in {city}", "Now hiring: {job} (full time)", "{job} – flexible hours"],
            ["We are looking for a {adj} {job} to join our team in {city}.",
             "Salary from ${big} per year, plus benefits.",
             "Shifts are {n1} to {n2} hours per week, including some weekends.",
             "Previous experience is helpful but full training is provided.",
             "Apply with your CV and a short cover letter by the end of the month.",
             "We offer {n} days of paid leave and a staff discount."]),
    "weather": (["Weekend forecast for {city}", "Storm warning issued for {city}", "Heatwave expected across the region"],
                ["Temperatures will reach {n} degrees on Saturday afternoon.",
                 "Winds of up to {n} km/h are expected along the coast.",
                 "Showers will clear by the evening, leaving a {adj} night.",
                 "There is a {pct} percent chance of rain on Sunday morning.",
                 "Drivers are advised to allow extra time for journeys."]),
    "health": (["{n} habits for better sleep", "Is walking enough exercise?", "What to eat before a long run"],
               ["Doctors recommend at least {n}0 minutes of moderate exercise a week.",
                "Drinking water throughout the day helps with concentration.",
                "{person}, a family doctor in {city}, says small changes add up.",
                "Try to keep the same bedtime every night, even at weekends.",
                "A {adj} breakfast with oats and fruit keeps you full until lunch.",
                "Talk to your doctor before starting any new supplement."]),
    "garden": (["Growing {plant} in small spaces", "When to plant {plant}", "{n} mistakes to avoid with {plant}"],
               ["Sow the {plant} in early spring once the soil has warmed.",
                "Water deeply once a week rather than a little every day.",
                "A layer of mulch keeps weeds down and the roots cool.",
                "My {plant} did {adj} this year despite the dry summer.",
                "Space the plants about {n} cm apart to let air move between them.",
                "Pick regularly and the plants will keep producing until autumn."]),
    "car": (["Road test: the new {brand} {car}", "Used {car} buying guide", "{brand} {car} long-term review"],
            ["The {car} feels {adj} on the motorway and easy to park in town.",
             "Fuel economy averaged {n} miles per gallon over our test route.",
             "Prices start at ${big}, which undercuts most rivals.",
             "The boot holds {n}0 litres with the rear seats up.",
             "Check the service history and listen for noises from the gearbox.",
             "Insurance is cheap and servicing costs are reasonable."]),
    "music": (["{band} return with a {adj} new album", "Live review: {band} in {city}", "Five songs to hear this week"],
              ["{band} played for {n}0 minutes to a sold-out crowd.",
               "The new record was made in a farmhouse over {n} weeks.",
               "The opening track is {adj}, built on a looping guitar riff.",
               "Tickets for the autumn tour go on sale on Friday.",
               "The singer thanked fans for {n} years of support."]),
    "pets": (["Bringing home a {pet}: a checklist", "How to keep your {pet} happy indoors", "Our {adj} {pet} and her first week"],
             ["Give your {pet} a quiet corner with a blanket during the first days.",
              "Feed small meals {n1} times a day and keep fresh water nearby.",
              "Our vet in {city} recommended a check-up every year.",
              "Short, regular play sessions work better than one long one.",
              "Our {pet} was {adj} at first but soon settled in."]),
    "diy": (["How to fix a dripping tap", "Painting a room in a weekend", "Building a simple garden bench"],
            ["Turn off the water supply before you start.",
             "You will need a screwdriver, a spanner and about {n} minutes.",
             "Sand the surface lightly and wipe away the dust.",
             "Apply two thin coats rather than one thick coat.",
             "Measure twice, cut once, and wear safety glasses.",
             "The whole job cost about ${n} in materials."]),
    "community": (["Welcome to the forum!", "Meet-up in {city} this spring", "Forum rules and etiquette"],
                  ["Please introduce yourself in the newcomers' thread.",
                   "Be kind, stay on topic and search before posting.",
                   "Our next meet-up is in {city} on the first Saturday of the month.",
                   "Moderators may remove posts that break the rules.",
                   "Thanks to {person} for organising last year's event."]),
    "org": (["About {name}", "Our team", "Support {name}", "Contact us"],
            ["{name} was founded in {year} by a small group of volunteers.",
             "We are based in {city} and run entirely on donations.",
             "Our office is open Monday to Friday, 9 am to 5 pm.",
             "You can reach the editors by email; we reply within {n} days.",
             "Thank you to our {big} members for their support."]),
    "school": (["Notes from the staff room", "Parents' evening: what to expect", "Our school trip to {city}",
                "Reading list for the summer"],
               ["The children had a {adj} time on the trip and came back tired but happy.",
                "Parents' evening takes place on Thursday from {n1} pm in the main hall.",
                "Please remember to label water bottles and jumpers.",
                "The library now has {n}0 new books for younger readers.",
                "{person} from class {n} won the district spelling bee.",
                "The school garden produced its first {plant} this week."]),
}


def _quantity(rng: random.Random) -> str:
    unit = rng.choice(UNITS)
    if unit in ("g", "ml"):
        return f"{rng.choice([25, 50, 100, 150, 200, 250, 400, 500])} {unit}"
    if unit in ("pinch of", "handful of"):
        return f"a {unit}"
    return f"{rng.choice(['1', '2', '3', '1/2', '1 1/2', '4'])} {unit}"


def nonmath_page(rng: random.Random, genre: str, site_name: str) -> tuple[str, list[str]]:
    """(title, paragraphs) of a non-math page of one genre."""
    titles, sentences = GENRE_TEXT[genre]
    extra = {"n1": rng.randint(1, 5), "n2": rng.randint(0, 4), "name": site_name}
    title = _fill(rng, rng.choice(titles), extra)
    order = rng.sample(sentences, len(sentences))[: rng.randint(4, len(sentences))]
    paras, i = [], 0
    while i < len(order):  # 1-3 sentences per paragraph, no sentence twice on a page
        k = rng.randint(1, 3)
        paras.append(" ".join(_fill(rng, t, extra) for t in order[i:i + k]))
        i += k
    return title, paras


# ------------------------------------------------------------------------------------------ math content
# A math item: title, question and solution lines in a mini-markup where $…$ / $$…$$ delimit TeX.


@dataclass
class MathItem:
    title: str
    question: str
    solution: list[str]
    family: str
    plain: bool = False  # text exactly as the synthetic task writes it (no TeX markup)


def _synthetic_item(p, rng: random.Random, markup: bool) -> MathItem:
    lines = p.solution.split("\n")
    if markup:  # TeX-ify the calculations and the final box, the way a MathJax site would show them
        lines = [re.sub(r"(\d+ [-+*/] \d+ = \d+)", lambda m: "$" + m.group(1).replace("*", "\\times") + "$", ln)
                 for ln in lines]
        lines[-1] = lines[-1].replace(f"\\boxed{{{p.answer}}}", f"$\\boxed{{{p.answer}}}$")
    q = p.question
    title = rng.choice([q.split(".")[-1].strip() or q[:60], f"Word problem about {q.split()[3] if len(q.split()) > 3 else 'counting'}",
                        "Help with a multi-step word problem", "Check my answer please", q[:70].rsplit(" ", 1)[0] + "…"])
    return MathItem(title, q, lines, "synthetic", plain=not markup)


def _linear(rng):
    a, x, b = rng.randint(2, 12), rng.randint(-15, 20), rng.randint(1, 40)
    c = a * x + b
    return MathItem(f"Solve the linear equation {a}x + {b} = {c}", f"Solve for $x$: $${a}x + {b} = {c}$$",
                    [f"Subtract {b} from both sides: $${a}x = {c} - {b} = {c - b}$$",
                     f"Divide both sides by {a}: $x = \\frac{{{c - b}}}{{{a}}} = {x}$.",
                     f"Check: ${a} \\cdot {x} + {b} = {c}$. The answer is $\\boxed{{{x}}}$."], "linear")


def _fractions(rng):
    from math import gcd
    b, d = rng.randint(2, 12), rng.randint(2, 12)
    a, c = rng.randint(1, b * 2), rng.randint(1, d * 2)
    num, den = a * d + c * b, b * d
    g = gcd(num, den)
    ans = f"\\frac{{{num // g}}}{{{den // g}}}" if den // g != 1 else str(num // g)
    return MathItem(f"Adding fractions {a}/{b} and {c}/{d}", f"Compute $\\frac{{{a}}}{{{b}}} + \\frac{{{c}}}{{{d}}}$ and simplify.",
                    [f"Use the common denominator ${b} \\cdot {d} = {den}$:",
                     f"$$\\frac{{{a}}}{{{b}}} + \\frac{{{c}}}{{{d}}} = \\frac{{{a} \\cdot {d} + {c} \\cdot {b}}}{{{den}}} = \\frac{{{num}}}{{{den}}}$$",
                     f"Dividing numerator and denominator by their gcd {g} gives $\\boxed{{{ans}}}$."], "fractions")


def _percent(rng):
    p, base = rng.choice([5, 10, 12, 15, 20, 25, 30, 40, 45, 60, 75]), rng.randint(2, 60) * 20
    r = p * base // 100
    return MathItem(f"What is {p}% of {base}?", f"Find ${p}\\%$ of ${base}$.",
                    [f"Write the percentage as a fraction: ${p}\\% = \\frac{{{p}}}{{100}}$.",
                     f"Multiply: $$\\frac{{{p}}}{{100}} \\times {base} = \\frac{{{p * base}}}{{100}} = {r}$$",
                     f"So ${p}\\%$ of ${base}$ is $\\boxed{{{r}}}$."], "percent")


def _quadratic(rng):
    r1, r2 = rng.randint(-9, 9), rng.randint(-9, 9)
    s, p = r1 + r2, r1 * r2
    poly = f"x^2 {'-' if s > 0 else '+'} {abs(s)}x {'+' if p >= 0 else '-'} {abs(p)}"
    lo, hi = sorted((r1, r2))
    return MathItem(f"Roots of {poly.replace('^2', '²')} = 0", f"Find all real solutions of $${poly} = 0.$$",
                    [f"We look for two numbers with sum ${s}$ and product ${p}$: they are ${r1}$ and ${r2}$.",
                     f"So $$(x {'-' if r1 >= 0 else '+'} {abs(r1)})(x {'-' if r2 >= 0 else '+'} {abs(r2)}) = 0.$$",
                     f"Hence $x = {lo}$ or $x = {hi}$, and the sum of the roots is $\\boxed{{{s}}}$ (Vieta: $-b/a = {s}$)."], "quadratic")


def _derivative(rng):
    a, b, n, c = rng.randint(2, 9), rng.randint(1, 20), rng.randint(2, 5), rng.randint(1, 9)
    x0 = rng.randint(1, 3)
    val = a * n * x0 ** (n - 1) + b
    return MathItem(f"Derivative of {a}x^{n} + {b}x + {c}", f"Let $f(x) = {a}x^{{{n}}} + {b}x + {c}$. Compute $f'({x0})$.",
                    [f"By the power rule, $$f'(x) = {a * n}x^{{{n - 1}}} + {b}.$$",
                     f"Substitute $x = {x0}$: $f'({x0}) = {a * n} \\cdot {x0}^{{{n - 1}}} + {b} = {val}$.",
                     f"Therefore $f'({x0}) = \\boxed{{{val}}}$."], "derivative")


def _series(rng):
    a, d, n = rng.randint(1, 20), rng.randint(1, 9), rng.randint(5, 40)
    last = a + (n - 1) * d
    s = n * (a + last) // 2
    return MathItem(f"Sum of an arithmetic sequence with {n} terms", f"Find the sum $\\sum_{{k=0}}^{{{n - 1}}} ({a} + {d}k)$.",
                    [f"The terms run from ${a}$ to ${a} + {d} \\cdot {n - 1} = {last}$, so there are ${n}$ terms.",
                     f"$$S = \\frac{{n(a_1 + a_n)}}{{2}} = \\frac{{{n}({a} + {last})}}{{2}} = {s}$$",
                     f"The sum is $\\boxed{{{s}}}$."], "series")


def _gcd(rng):
    from math import gcd
    g = rng.randint(2, 15)
    a, b = g * rng.randint(2, 20), g * rng.randint(2, 20)
    steps, x, y = [], max(a, b), min(a, b)
    while y:
        steps.append(f"${x} = {x // y} \\cdot {y} + {x % y}$")
        x, y = y, x % y
    return MathItem(f"gcd({a}, {b}) with the Euclidean algorithm", f"Use the Euclidean algorithm to find $\\gcd({a}, {b})$.",
                    steps + [f"The last nonzero remainder is ${x}$, so $\\gcd({a}, {b}) = \\boxed{{{gcd(a, b)}}}$."], "gcd")


def _probability(rng):
    from math import gcd
    t = rng.randint(3, 11)
    ways = sum(1 for i in range(1, 7) for j in range(1, 7) if i + j == t)
    g = gcd(ways, 36)
    return MathItem(f"Probability that two dice sum to {t}", f"Two fair dice are rolled. What is the probability that the sum is ${t}$?",
                    [f"There are $6 \\times 6 = 36$ equally likely outcomes.",
                     f"The pairs with sum ${t}$ are counted: there are ${ways}$ of them.",
                     f"$$P = \\frac{{{ways}}}{{36}} = \\frac{{{ways // g}}}{{{36 // g}}}$$",
                     f"The probability is $\\boxed{{\\frac{{{ways // g}}}{{{36 // g}}}}}$."], "probability")


def _geometry(rng):
    w, h = rng.randint(2, 30), rng.randint(2, 30)
    return MathItem(f"Area and perimeter of a {w} by {h} rectangle", f"A rectangle has width ${w}$ cm and height ${h}$ cm. Find its area and its perimeter.",
                    [f"The area is $A = w \\cdot h = {w} \\cdot {h} = {w * h}\\,\\text{{cm}}^2$.",
                     f"The perimeter is $$P = 2(w + h) = 2({w} + {h}) = {2 * (w + h)}\\,\\text{{cm}}.$$",
                     f"So the area is $\\boxed{{{w * h}}}$ square centimetres."], "geometry")


def _system(rng):
    x, y = rng.randint(-8, 12), rng.randint(-8, 12)
    a, b = rng.randint(1, 5), rng.randint(1, 5)
    s, d = a * x + b * y, x - y
    return MathItem("Solving a system of two linear equations", f"Solve the system $$\\begin{{cases}} {a}x + {b}y = {s} \\\\ x - y = {d} \\end{{cases}}$$",
                    [f"From the second equation, $x = y + {d}$.",
                     f"Substitute: ${a}(y + {d}) + {b}y = {s}$, so ${a + b}y = {s - a * d}$ and $y = {y}$.",
                     f"Then $x = {y} + {d} = {x}$. The solution is $(x, y) = ({x}, {y})$, and $x + y = \\boxed{{{x + y}}}$."], "system")


OTHER_FAMILIES: list[Callable[[random.Random], MathItem]] = [
    _linear, _fractions, _percent, _quadratic, _derivative, _series, _gcd, _probability, _geometry, _system]


def _wordy_item(rng: random.Random, p) -> MathItem:
    """Math told in prose with no TeX at all (hidden-section posts): harder for a first classifier."""
    intro = rng.choice(["Here is this week's puzzle for the kids.", "A reader sent us this one.",
                        "We tried this at the kitchen table last night.", "A quick brain teaser before the weekend."])
    return MathItem(rng.choice(["Puzzle of the week", "Kitchen table maths", "A counting problem", "Try this one"]),
                    f"{intro} {p.question}", p.solution.split("\n"), "synthetic", plain=True)


# ------------------------------------------------------------------------------------------ markup


def tex_html(tex: str, display: bool, style: str, rng: random.Random) -> str:
    """One formula in a site's math markup (what a crawler sees before any JavaScript runs)."""
    esc = htmllib.escape(tex, quote=False)
    if style == "mathjax":
        return f'<script type="math/tex{"; mode=display" if display else ""}">{esc}</script>'
    if style == "katex":
        rendered = "".join(f'<span class="mord">{htmllib.escape(ch)}</span>' for ch in re.sub(r"\\[a-z]+|[{}^_]", "", tex)[:40])
        inner = (f'<span class="katex"><span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML">'
                 f'<semantics><mrow><mi>{esc[:10]}</mi></mrow><annotation encoding="application/x-tex">{esc}</annotation>'
                 f'</semantics></math></span><span class="katex-html" aria-hidden="true">{rendered}</span></span>')
        return f'<span class="katex-display">{inner}</span>' if display else inner
    if style == "mathml":
        alt = htmllib.escape(tex, quote=True)
        disp = ' display="block"' if display else ""
        return (f'<math xmlns="http://www.w3.org/1998/Math/MathML" alttext="{alt}"{disp}>'
                f'<mrow><mi>{esc[:8]}</mi></mrow></math>')
    # raw TeX in the text, as many forums write it (MathJax renders it client-side)
    if rng.random() < 0.5:
        return f"$${esc}$$" if display else f"${esc}$"
    return f"\\[{esc}\\]" if display else f"\\({esc}\\)"


_TEX = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)


def markup_html(text: str, style: str, rng: random.Random) -> str:
    """Mini-markup → HTML: TeX segments through `tex_html`, the rest escaped."""
    out, pos = [], 0
    for m in _TEX.finditer(text):
        out.append(htmllib.escape(text[pos:m.start()], quote=False))
        display = m.group(1) is not None
        out.append(tex_html(m.group(1) if display else m.group(2), display, style, rng))
        pos = m.end()
    out.append(htmllib.escape(text[pos:], quote=False))
    return "".join(out)


def _slug(text: str, n: int = 8) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:n]) or "page"


def _chrome(site: Site, rng: random.Random, body: str, title: str, date: datetime) -> str:
    """A full page: head, header nav, content, sidebar of links, footer with boilerplate."""
    nav_items = rng.sample(["Home", "Latest", "Popular", "Topics", "About", "Contact", "Archive", "Help", "Search"], 5)
    nav = "".join(f'<li><a href="/{_slug(x)}">{x}</a></li>' for x in nav_items)
    related = "".join(f'<li><a href="/{_slug(t)}-{rng.randint(100, 9999)}">{htmllib.escape(t)}</a></li>'
                      for t in rng.sample(["Most read this week", "Editor's picks", "From the archive", "Trending now",
                                           "You may also like", "Popular topics", "New this month"], 4))
    mathjax = ('<script type="text/javascript" src="https://cdn.example/mathjax/2.7/MathJax.js?config=TeX-AMS_HTML"></script>'
               if site.style == "mathjax" else "")
    katex = '<link rel="stylesheet" href="https://cdn.example/katex/katex.min.css">' if site.style == "katex" else ""
    cookie = ('<div class="cookie-banner">We use cookies to improve your experience. <a href="/privacy">Privacy policy</a></div>'
              if rng.random() < 0.5 else "")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{htmllib.escape(title)} - {htmllib.escape(site.name)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{mathjax}{katex}'
        f'<style>body{{font-family:sans-serif}} .sidebar{{float:right}}</style>'
        f'<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}</script></head>\n'
        f'<body><header class="site-header"><a class="logo" href="/">{htmllib.escape(site.name)}</a>'
        f'<nav class="menu"><ul>{nav}</ul></nav></header>\n'
        f'<div class="container"><main id="content"><article>'
        f'<h1>{htmllib.escape(title)}</h1><p class="meta">Posted on {date:%B %d, %Y}</p>\n{body}\n</article></main>\n'
        f'<aside class="sidebar"><h3>More</h3><ul>{related}</ul></aside></div>\n'
        f'<footer class="site-footer"><p>© {date.year} {htmllib.escape(site.name)}. All rights reserved.</p>'
        f'<p><a href="/terms">Terms of use</a> · <a href="/privacy">Privacy policy</a></p></footer>{cookie}</body></html>\n'
    )


def math_body(item: MathItem, style: str, layout: str, rng: random.Random) -> str:
    """The content block of a math page: Q&A, worksheet, forum thread or lesson."""
    q = markup_html(item.question, style, rng)
    if item.plain:  # keep the synthetic task's exact text: one solution step per line
        sol = "<br>\n".join(htmllib.escape(s, quote=False) for s in item.solution)
    else:
        sol = "\n".join(f"<p>{markup_html(s, style, rng)}</p>" for s in item.solution)
    user = f"{rng.choice(FIRST).lower()}{rng.randint(1, 999)}"
    if layout == "qa":
        votes = rng.randint(0, 40)
        return (f'<div class="question"><div class="vote-count">{rng.randint(0, 25)}</div><div class="post-text"><p>{q}</p>'
                f'<p>{htmllib.escape(rng.choice(["I am stuck on this one.", "Is my approach right?", "Any hints appreciated.", "This came up in my homework."]))}</p></div>'
                f'<div class="tags"><a href="/tags/algebra">algebra</a> <a href="/tags/homework">homework</a> <a href="/tags/{item.family}">{item.family}</a></div></div>\n'
                f'<h2>1 Answer</h2><div class="answer accepted"><div class="vote-count">{votes}</div><div class="post-text">'
                + (f"<p>Solution:<br>\n{sol}</p>" if item.plain else sol)
                + f'</div><div class="user-card">answered by <a href="/users/{rng.randint(1, 9999)}/{user}">{user}</a></div></div>')
    if layout == "worksheet":
        if item.plain:
            return f"<p>Problem: {q}</p>\n<p>Solution: {sol}</p>"
        return f'<div class="problem"><p><b>Problem.</b> {q}</p></div>\n<div class="solution"><h3>Solution</h3>{sol}</div>'
    if layout == "forum":
        reply = rng.choice(["Thanks, that makes sense now!", "Great explanation.", "I got the same answer."])
        return (f'<div class="post"><div class="post-author">{user}</div><div class="post-body"><p>{q}</p></div></div>\n'
                f'<div class="post"><div class="post-author">{rng.choice(FIRST).lower()}_{rng.randint(1, 99)}</div><div class="post-body">'
                + (f"<p>{sol}</p>" if item.plain else sol)
                + f'</div></div>\n<div class="post"><div class="post-body"><p>{reply}</p></div></div>')
    # lesson / blog post
    intro = rng.choice(["In this lesson we work through one example step by step.",
                        "Let us look at a classic exercise.", "Today's worked example:"])
    return (f"<p>{intro}</p>\n<p>{q}</p>\n<h2>Worked solution</h2>\n"
            + (f"<p>{sol}</p>" if item.plain else sol)
            + "\n<p>Try a similar problem yourself before moving on.</p>")


# ------------------------------------------------------------------------------------------ pages


@dataclass
class Page:
    url: str
    html: str
    is_math: bool
    planted: str = "none"
    kind: str = ""
    family: str = ""
    benchmark: str = ""
    site: str = ""


_LAYOUT = {"www.mathanswers.net": "qa", "problemsolving.org": "worksheet", "forum.algebracafe.com": "forum",
           "calcnotes.io": "lesson", "www.mathwiki.org": "lesson"}


def _math_url(site: Site, item: MathItem, rng: random.Random, serial: int) -> str:
    path = site.math_path
    if site.host == "www.mathwiki.org":
        return f"https://{site.host}{path}{re.sub(r'[^A-Za-z0-9]+', '_', item.title)[:60]}_{serial}"
    if site.host == "forum.algebracafe.com":
        return f"https://{site.host}{path}{_slug(item.title)}/{10000 + serial}"
    if site.kind == "hidden":
        return f"https://{site.host}{path}{2020 + serial % 5}/{_slug(item.title)}-{serial}/"
    return f"https://{site.host}{path}{10000 + serial}/{_slug(item.title)}"


def _nonmath_url(site: Site, title: str, genre: str, rng: random.Random, serial: int) -> str:
    if site.kind == "math":  # the non-math corners of a math site
        return f"https://{site.host}" + rng.choice([f"/users/{serial}/{_slug(title, 3)}", f"/help/{_slug(title, 4)}-{serial}",
                                                    f"/about/{_slug(title, 3)}-{serial}", f"/blog/{_slug(title)}-{serial}"])
    section = {"news": "news", "recipe": "recipes", "sports": "sport", "product": "products", "travel": "travel",
               "movie": "reviews", "tech": "blog", "realestate": "listings", "job": "jobs", "weather": "forecast",
               "health": "health", "garden": "garden", "car": "cars", "music": "music", "pets": "pets",
               "diy": "guides", "community": "community", "org": "about", "school": "news"}[genre]
    return f"https://{site.host}/{section}/{rng.randint(2019, 2024)}/{_slug(title)}-{serial}"


def _allocate(n: int, sites: list[Site]) -> list[int]:
    """Split n pages over sites in proportion to their weights (largest remainder; deterministic)."""
    total = sum(s.weight for s in sites)
    raw = [n * s.weight / total for s in sites]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(sites)), key=lambda i: raw[i] - counts[i], reverse=True)[: n - sum(counts)]:
        counts[i] += 1
    return counts


def _weighted_choice(rng: random.Random, sites: list[Site]) -> Site:
    return rng.choices(sites, weights=[s.weight for s in sites], k=1)[0]


def _benchmark_items(tasks_cfg, rng: random.Random, n_synth: int, n_gsm: int, n_math: int) -> list[tuple[str, MathItem]]:
    """Planted benchmark problems: synthetic TEST split (always), GSM8K / MATH-500 when their files exist
    locally (never downloaded: the demo crawl is an offline product)."""
    from seekmath.tasks.loaders import TaskError, load_problems, local_benchmark_file
    from seekmath.tasks.synthetic import generate_problems

    out: list[tuple[str, MathItem]] = []
    test = generate_problems(tasks_cfg, "test", tasks_cfg.num_test)  # exactly the set the recipe evaluates on
    for p in rng.sample(test, min(n_synth, len(test))):
        out.append(("synthetic", _synthetic_item(p, rng, markup=rng.random() < 0.3)))
    for name, k in (("gsm8k", n_gsm), ("math500", n_math)):
        if local_benchmark_file(name) is None:
            continue  # benchmark files not available here: plant only what we have
        try:
            probs = load_problems(name)
        except (TaskError, OSError, ValueError):
            continue
        for p in rng.sample(probs, min(k, len(probs))):
            sol = [s for s in (p.solution or "").split("\n") if s.strip()][:8] or [f"The answer is {p.answer}."]
            if name == "gsm8k":
                sol = [re.sub(r"<<[^>]*>>", "", s) for s in sol] + [f"The answer is {p.answer}."]
            out.append((name, MathItem(rng.choice(["Can someone check my work?", "Stuck on this problem",
                                                   "Homework question", "Need help with this one"]),
                                       p.question, sol, name, plain=False)))
    return out


def _near_duplicate_html(html: str, rng: random.Random) -> str:
    """A copy with one small edit to the visible content: an appended line or one changed word.

    Small on purpose: a scraped or AMP copy of a page differs from it by a few tokens, which is what
    near-dedup (MinHash at Jaccard ~0.8 on word 5-grams) is meant to catch.
    """
    if rng.random() < 0.5:
        note = rng.choice(["<p>Edit: fixed a typo.</p>", "<p>Thanks for reading!</p>", "<p>Originally posted elsewhere.</p>"])
        return html.replace("</article>", note + "</article>", 1)
    # the edited word must be in the article's visible text: an edit in the sidebar or footer is
    # boilerplate that extraction drops, which would make the copy an exact duplicate
    start, end = html.find("</h1>"), html.find("</article>")
    for a, b in ((" the ", " that "), (" and ", " & "), (" is ", " was "), (" a ", " one "), (" has ", " had ")):
        i = html.find(a, start, end if end > start else len(html))
        if i > 0:
            return html[:i] + b + html[i + len(a):]
    return html.replace("</article>", "<p>Thanks for reading!</p></article>", 1)


def generate_pages(pages: int, seed: int, tasks_cfg) -> list[Page]:
    """The labelled pages of the demo crawl, in crawl order (shuffled across domains)."""
    from seekmath.tasks.synthetic import generate_problems

    rng = random.Random(f"seekmath-democrawl/{seed}")
    if pages < 50:
        raise ValueError(f"--pages must be at least 50 (got {pages}): the crawl needs every kind of page")
    n_contam = max(6, round(pages * 0.02))
    n_dup = max(3, round(pages * 0.05))
    n_base = pages - n_contam - n_dup
    n_math_site = round(n_base * 0.32)
    n_hidden = round(n_base * 0.15)
    n_nonmath = n_base - n_math_site - n_hidden
    # ~85% of a math site's pages are math; ~25% of a hidden blog's pages live in its math section
    n_math_total = round(n_math_site * 0.85) + round(n_hidden * 0.25) + len(MATH_SITES) + len(HIDDEN_SITES)
    train = generate_problems(tasks_cfg, "train", n_math_total + 20, seed=tasks_cfg.seed + 1000 * seed)
    train_iter = iter(train)

    def next_item(site: Site) -> MathItem:
        if site.kind == "hidden" and site.style == "plain" and rng.random() < 0.5:
            return _wordy_item(rng, next(train_iter))
        if rng.random() < 0.6:
            p = next(train_iter)
            markup = site.style != "plain" and rng.random() < 0.3
            return _synthetic_item(p, rng, markup)
        return rng.choice(OTHER_FAMILIES)(rng)

    out: list[Page] = []
    serial = 0

    def day() -> datetime:
        return BASE_DATE - timedelta(days=rng.randint(0, 1500), minutes=rng.randint(0, 1439))

    def math_page(site: Site, item: MathItem, planted: str = "none", bench: str = "") -> Page:
        nonlocal serial
        serial += 1
        layout = _LAYOUT.get(site.host, "lesson")
        if site.kind == "hidden" and item.plain:
            layout = rng.choice(["lesson", "worksheet"])
        body = math_body(item, site.style, layout, rng)
        html = _chrome(site, rng, body, item.title, day())
        return Page(_math_url(site, item, rng, serial), html, True, planted, f"{site.kind}_math", item.family, bench, site.host)

    def plain_page(site: Site, genre: str) -> Page:
        nonlocal serial
        serial += 1
        title, paras = nonmath_page(rng, genre, site.name)
        body = "\n".join(f"<p>{htmllib.escape(p, quote=False)}</p>" for p in paras)
        if genre == "recipe":
            ings = "".join(f"<li>{_quantity(rng)} {ing}</li>" for ing in rng.sample(INGREDIENTS, rng.randint(4, 9)))
            body = f"<h2>Ingredients</h2><ul class=\"ingredients\">{ings}</ul>\n<h2>Method</h2>\n{body}"
        elif genre == "product":
            specs = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in
                            [("Weight", f"{rng.randint(50, 5000)} g"), ("Power", f"{rng.randint(5, 2000)} W"),
                             ("Warranty", f"{rng.randint(1, 5)} years"), ("SKU", f"{rng.randint(10000, 99999)}")])
            body += f'\n<table class="specs">{specs}</table><p class="price">${rng.randint(9, 999)}.99</p><button>Add to cart</button>'
        elif genre == "sports":
            rows = "".join(f"<tr><td>{t}</td><td>{rng.randint(10, 38)}</td><td>{rng.randint(10, 80)}</td></tr>"
                           for t in rng.sample(TEAMS, 5))
            body += f'\n<table class="standings"><tr><th>Team</th><th>Played</th><th>Points</th></tr>{rows}</table>'
        html = _chrome(site, rng, body, title, day())
        return Page(_nonmath_url(site, title, genre, rng, serial), html, False, "none",
                    "math_site_other" if site.kind == "math" else f"{site.kind}_other", genre, "", site.host)

    # every math site and hidden blog gets its share of pages, of which a fixed fraction is math
    for site, count in zip(MATH_SITES, _allocate(n_math_site, MATH_SITES)):
        k = round(count * 0.85)
        out += [math_page(site, next_item(site)) for _ in range(k)]
        out += [plain_page(site, rng.choice(site.genres)) for _ in range(count - k)]
    for site, count in zip(HIDDEN_SITES, _allocate(n_hidden, HIDDEN_SITES)):
        k = round(count * 0.25)
        out += [math_page(site, next_item(site)) for _ in range(k)]
        out += [plain_page(site, rng.choice(site.genres)) for _ in range(count - k)]
    for _ in range(n_nonmath):
        site = _weighted_choice(rng, NONMATH_SITES)
        out.append(plain_page(site, rng.choice(site.genres)))

    # planted benchmark text: on math sites mostly, a few in hidden math sections
    n_gsm = n_math = max(1, n_contam // 3)
    bench = _benchmark_items(tasks_cfg, rng, n_contam - n_gsm - n_math, n_gsm, n_math)
    while len(bench) < n_contam:  # benchmark files missing: fill with more synthetic test problems
        extra = _benchmark_items(tasks_cfg, random.Random(f"more/{seed}/{len(bench)}"), n_contam - len(bench), 0, 0)
        have = {b[1].question for b in bench}
        new = [b for b in extra if b[1].question not in have][: n_contam - len(bench)]
        if not new:  # the test split holds no more distinct problems (a small task space): plant fewer
            break
        bench += new
    for name, item in bench:
        site = _weighted_choice(rng, MATH_SITES if rng.random() < 0.8 else HIDDEN_SITES)
        out.append(math_page(site, item, "contamination", name))
    for _ in range(n_contam - len(bench)):  # fewer benchmark problems than planned: keep the page count
        site = _weighted_choice(rng, NONMATH_SITES)
        out.append(plain_page(site, rng.choice(site.genres)))

    # near-duplicates of clean pages, at another URL of the same site or on a scraper site
    originals = rng.sample([p for p in out if p.planted == "none"], n_dup)
    for orig in originals:
        serial += 1
        if rng.random() < 0.7:
            url = orig.url.rstrip("/") + rng.choice(["?amp=1", "/amp", "?utm_source=feed", "?page=1", f"?ref={serial}"])
        else:
            mirror = rng.choice(MIRROR_SITES)
            url = f"https://{mirror.host}/copy/{serial}/{orig.url.split('/', 3)[-1].replace('/', '-')[:80]}"
        out.append(Page(url, _near_duplicate_html(orig.html, rng), orig.is_math, "near_duplicate",
                        orig.kind, orig.family, "", url.split("/")[2]))
    rng.shuffle(out)
    return out


# ------------------------------------------------------------------------------------------ WARC writing


def _uuid(rng: random.Random) -> str:
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def _warc_date(i: int) -> str:
    return (BASE_DATE + timedelta(seconds=7 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")


class _ShardWriter:
    """One WARC.gz shard written with warcio, one gzip member per record (the Common Crawl layout)."""

    def __init__(self, name: str, rng: random.Random):
        self.buf = io.BytesIO()
        self.writer = WARCWriter(self.buf, gzip=True, warc_version="WARC/1.0")
        self.rng = rng
        self.name = name
        self.count = 0
        info = self.writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(b"software: seekmath demo-crawl\r\nformat: WARC File Format 1.0\r\n"),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Record-ID": _uuid(rng), "WARC-Date": _warc_date(0), "WARC-Filename": name})
        self.writer.write_record(info)

    def page(self, url: str, body: bytes, content_type: str, status: str = "200 OK", extra_headers=()) -> tuple[int, int]:
        """Write request + response; returns the (start, end) byte range of the response member."""
        self.count += 1
        i = self.count
        path = "/" + url.split("/", 3)[-1] if url.count("/") >= 3 else "/"
        host = url.split("/")[2]
        req_id = _uuid(self.rng)
        req = self.writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", host), ("User-Agent", "seekmath-democrawl/1.0"),
                                                                    ("Accept", "text/html,application/xhtml+xml")],
                                          protocol="", is_http_request=True),
            warc_headers_dict={"WARC-Record-ID": req_id, "WARC-Date": _warc_date(i)})
        self.writer.write_record(req)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Server", "nginx"),
                   ("Date", (BASE_DATE + timedelta(seconds=7 * i)).strftime("%a, %d %b %Y %H:%M:%S GMT")), *extra_headers]
        resp = self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Record-ID": _uuid(self.rng), "WARC-Date": _warc_date(i),
                               "WARC-Concurrent-To": req_id})
        start = self.buf.tell()
        self.writer.write_record(resp)
        return start, self.buf.tell()

    def raw(self, data: bytes) -> None:
        self.buf.write(data)

    def getvalue(self) -> bytes:
        return self.buf.getvalue()


def _oversized_html(rng: random.Random, size: int) -> bytes:
    para = "<p>" + " ".join(rng.choice(ADJ) for _ in range(200)) + "</p>\n"
    reps = size // len(para) + 2
    return ("<html><body><h1>Server log dump</h1>" + para * reps + "</body></html>").encode()


def make_demo_crawl(out_dir, pages: int = 3000, seed: int = 0, tasks_cfg=None, *,
                    pages_per_shard: int = PAGES_PER_SHARD, max_bytes: int | None = None) -> dict:
    """Write `out_dir/*.warc.gz`, `out_dir/labels.jsonl` and `out_dir/demo_crawl.json`; returns the summary.

    Deterministic for (pages, seed, tasks_cfg): the same bytes every time.
    """
    from seekmath.config import TasksConfig
    from seekmath.corpus.read import DEFAULT_MAX_BYTES
    from seekmath.runs import atomic_write_bytes, atomic_write_json, atomic_write_text

    t0 = time.perf_counter()
    tasks_cfg = tasks_cfg or TasksConfig()
    max_bytes = max_bytes or DEFAULT_MAX_BYTES
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("demo-*.warc.gz"):  # a rerun with fewer shards must not leave stale ones
        old.unlink()
    page_list = generate_pages(pages, seed, tasks_cfg)
    rng = random.Random(f"seekmath-democrawl-warc/{seed}")
    n_shards = max(1, -(-len(page_list) // pages_per_shard))
    expected = {"non_utf8": 0, "non_html": 0, "http_status": 0, "oversized": 0, "corrupt_record": 0}
    files = []
    for s in range(n_shards):
        name = f"demo-{s:05d}.warc.gz"
        w = _ShardWriter(name, rng)
        chunk = page_list[s * pages_per_shard:(s + 1) * pages_per_shard]
        bad_at = {len(chunk) // 4: "non_utf8", len(chunk) // 2: "non_html", (3 * len(chunk)) // 4: "http_status"}
        corrupt: list[tuple[int, int]] = []
        for j, page in enumerate(chunk):
            w.page(page.url, page.html.encode("utf-8"), "text/html; charset=utf-8")
            kind = bad_at.get(j)
            if kind == "non_utf8":  # legacy bytes with no declared charset (UTF-8 assumed): unreadable
                host = rng.choice(NONMATH_SITES).host
                w.page(f"https://{host}/legacy/{s}-{j}.html",
                       "<html><body><p>Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, prix 3,50 \u20ac</p></body></html>".encode("cp1252"), "text/html")
                expected["non_utf8"] += 1
            elif kind == "non_html":
                host = rng.choice(NONMATH_SITES).host
                w.page(f"https://{host}/files/brochure-{s}.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "application/pdf")
                w.page(f"https://{host}/api/items-{s}.json", json.dumps({"items": [1, 2, 3]}).encode(), "application/json")
                expected["non_html"] += 2
            elif kind == "http_status":
                host = rng.choice(NONMATH_SITES).host
                w.page(f"https://{host}/old-page-{s}", b"", "text/html", "301 Moved Permanently",
                       [("Location", f"https://{host}/new-page-{s}")])
                w.page(f"https://{host}/missing-{s}", b"<html><body>Not found</body></html>", "text/html", "404 Not Found")
                expected["http_status"] += 2
        if s == 0:  # one oversized page, one corrupt member, garbage between members
            w.page(f"https://{NONMATH_SITES[0].host}/archive/full-dump.html", _oversized_html(rng, max_bytes + 1000), "text/html")
            expected["oversized"] += 1
            corrupt.append(w.page(f"https://{NONMATH_SITES[1].host}/news/corrupted-member", b"<html><body><p>lost</p></body></html>" * 20,
                                  "text/html"))
            expected["corrupt_record"] += 1
            # a healthy page between the corrupt member and the garbage, so each is counted on its own
            w.page(f"https://{NONMATH_SITES[1].host}/news/after-corruption", b"<html><body><p>still here</p></body></html>", "text/plain")
            expected["non_html"] += 1
            w.raw(b"\x00\x00 this is not a gzip member: truncated upload garbage \x00" * 3)
            expected["corrupt_record"] += 1
        data = bytearray(w.getvalue())
        for start, end in corrupt:  # flip bytes inside the deflate stream of that member
            mid = (start + end) // 2
            for k in range(mid, min(mid + 24, end - 10)):
                data[k] ^= 0x5A
        atomic_write_bytes(out / name, bytes(data))
        files.append(name)
    labels = [{"url": p.url, "is_math": p.is_math, "planted": p.planted, "kind": p.kind, "family": p.family,
               "benchmark": p.benchmark} for p in page_list]
    atomic_write_text(out / "labels.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in labels))
    domains = sorted({p.site for p in page_list})
    summary = {
        "pages": len(page_list),
        "seed": seed,
        "shards": files,
        "records_per_shard": pages_per_shard,
        "math_pages": sum(p.is_math for p in page_list),
        "non_math_pages": sum(not p.is_math for p in page_list),
        "near_duplicates": sum(p.planted == "near_duplicate" for p in page_list),
        "contamination": sum(p.planted == "contamination" for p in page_list),
        "contamination_by_benchmark": _count(p.benchmark for p in page_list if p.benchmark),
        "families": _count(p.family for p in page_list if p.is_math),
        "domains": len(domains),
        "math_domains": sorted(s.host.removeprefix("www.") for s in MATH_SITES),
        "hidden_math_sections": {s.host.removeprefix("www."): s.math_path for s in HIDDEN_SITES},
        "expected_skips": expected,
        "sha256": {f: hashlib.sha256((out / f).read_bytes()).hexdigest()[:16] for f in files},
    }
    atomic_write_json(out / "demo_crawl.json", summary)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    return summary


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
