"""Write outlets.jsonl: a small dated sample of six fictional outlets over 2025, written for the profile demo.

    python annotations/tools/build_profile_sample.py

The outlets, their sentences and the dates are invented for the demo of ``stancekit
profile``; they are not part of the labeled corpus and describe no real outlet. Each
outlet has a voice (a state news agency, a channel close to the IRGC, an opposition
broadcaster abroad, a rights monitor, an international wire and a reformist daily inside
Iran), and each of its articles takes two or three sentences of one topic from that voice,
with names, places and numbers filled in. The daily changes its editorial line in July:
from then on it carries the official view. That is the shift the change test should find.
Dates are written in each outlet's own form (ISO with and without a zone, RFC 2822,
"14 January 2025"), as feeds write them. The output is the same on every run (seeded).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "stancekit" / "samples" / "profiles" / "outlets.jsonl"
SEED = 2025
ARTICLES_PER_MONTH = 4
SHIFT_MONTH = 7
"""From this month on, Tehran Morning follows its new editorial line."""

SLOTS = {
    "city": ["Tehran", "Isfahan", "Mashhad", "Tabriz", "Shiraz", "Ahvaz", "Kermanshah", "Rasht", "Zahedan", "Karaj",
             "Qom", "Sanandaj", "Yazd", "Arak", "Bandar Abbas"],
    "prison": ["Evin", "Ghezel Hesar", "Qarchak", "Vakilabad", "Lakan", "Adelabad", "Dizel Abad"],
    "weekday": ["Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday"],
    "factory": ["sugar plant", "steel works", "tyre factory", "textile mill", "petrochemical complex"],
    "few": ["three", "four", "five", "six", "seven", "nine", "eleven"],
    "number": ["12", "17", "23", "28", "31", "40", "46", "52", "64"],
    "percent": ["38", "41", "44", "47", "52", "57", "61"],
    "hour": ["18:00", "19:30", "20:00", "21:00"],
}
TEHRAN_MORNING_NEWS = [
    "The city council of {city} approved a plan to extend the metro by {few} stations.",
    "The water level in the dams that supply {city} has fallen to {percent} percent of capacity, the regional water "
    "company said.",
    "Parliament's economic committee will review the draft tax law on {weekday}.",
    "The national football team will play a friendly match in {city} next month.",
    "The book fair in Tehran opened on {weekday} with publishers from {number} countries.",
]
"""The daily's plain news, before and after its change of line."""

OUTLETS = {
    "Pars Dispatch": {
        "date_form": "%Y-%m-%dT%H:%M:00+03:30",
        "topics": {
            "foreign_interference": (0.2, [
                "The Foreign Ministry spokesman said the unrest in {city} had been planned and financed by Western "
                "intelligence services.",
                "Officials said {number} members of a network directed from abroad had been arrested for trying to stir "
                "up riots in {city}.",
                "The spokesman accused London-based Persian-language channels of acting as the media arm of hostile "
                "governments.",
                "According to the Intelligence Ministry, the rioters received instructions and money from handlers in "
                "Europe and the United States.",
                "The Interior Minister said the enemy had spent millions on social media campaigns to turn young people "
                "against their country.",
            ]),
            "legitimacy": (0.2, [
                "A turnout of {percent} percent in the {city} by-election showed the people's deep attachment to the "
                "Islamic Republic, the Interior Minister said.",
                "Millions marched across the country to renew their allegiance to the ideals of the Islamic Revolution.",
                "The President said the nation's presence in the squares was a clear answer to those who question the "
                "legitimacy of the system.",
                "The Friday prayer leader of {city} said the unity of the people and the Leader had defeated every plot.",
            ]),
            "glorification": (0.15, [
                "Thousands of mourners gathered in {city} to honour the martyrs of the holy defence.",
                "The martyr Soleimani remains a symbol of resistance for the free nations of the region, the Friday "
                "prayer leader of {city} said.",
                "Ceremonies marking the anniversary of the martyrdom of the defenders of the shrine were held in "
                "{number} provinces.",
                "The Leader praised the selfless work of the Basij volunteers who rushed to help the flood victims.",
            ]),
            "economic": (0.2, [
                "The Minister of Industry said non-oil exports rose {percent} percent this year despite the cruel "
                "sanctions.",
                "The government inaugurated {number} new industrial projects in {city} province on {weekday} as part of "
                "the plan to neutralise sanctions.",
                "Officials said the enemy's economic war had failed to stop the country's progress in knowledge-based "
                "industries.",
                "The national refinery in {city} reached record output, proving that Iranian engineers need no foreign "
                "help, the oil minister said.",
            ]),
            "terrorism": (0.1, [
                "Security forces dismantled a terrorist cell linked to the hypocrites' grouping near {city}, the "
                "provincial police chief said.",
                "The judiciary said the defendants had confessed to planning bombings on behalf of the Zionist regime.",
                "Explosives and weapons smuggled across the border for a terrorist team were seized in {city}, "
                "officials said.",
            ]),
            "none": (0.15, [
                "The Central Bank said the official exchange rate would be reviewed at its next board meeting.",
                "The cabinet met on {weekday} to discuss the draft budget for the next Iranian year.",
                "Schools in {city} will be closed on {weekday} because of air pollution, the governor's office said.",
                "The Minister of Roads said the new rail line between {city} and Tehran would open next year.",
            ]),
        },
    },
    "Sentinel Channel": {
        "date_form": "%Y-%m-%d %H:%M:00+03:30",
        "topics": {
            "threat": (0.3, [
                "Any aggression against the soil of Iran will be met with a crushing response that the enemy will "
                "regret.",
                "The commander of the IRGC Aerospace Force warned that every American base in the region is within "
                "range of our missiles.",
                "The Zionist regime should know that none of its cities is safe if it makes a mistake.",
                "Our fingers are on the trigger, and the enemy knows it.",
                "The navy of the IRGC warned foreign warships to keep their distance from Iranian waters.",
            ]),
            "glorification": (0.25, [
                "Glory to the martyrs who gave their lives so that this flag would stay high #Martyrs",
                "The IRGC is the pride of the nation and the nightmare of its enemies.",
                "Hajj Qassem lives on in every young fighter of the resistance front.",
                "Salute to the heroes of the Basij who stand guard day and night in {city}.",
            ]),
            "terrorism": (0.15, [
                "The so-called activists abroad are the same terrorists who killed thousands of Iranians in the 1980s.",
                "The MEK terrorist cult is again trying to recruit young people online, our sources say.",
                "The separatist terrorists behind the attack in {city} were trained and armed across the border.",
            ]),
            "foreign_interference": (0.2, [
                "BBC Persian and Iran International are run by the same intelligence services that organised the "
                "riots.",
                "Every hashtag campaign against Iran is manufactured in Tel Aviv and Riyadh.",
                "The so-called protests in {city} were called for by accounts run from London.",
            ]),
            "mobilization": (0.1, [
                "Join the rally after Friday prayers in {city} to show the enemies that the nation stands with the "
                "Leader.",
                "Everyone to the squares on {weekday} to defend the revolution #WeStand",
            ]),
        },
    },
    "Azadi Voice": {
        "date_form": "rfc2822",
        "topics": {
            "repression": (0.3, [
                "Security forces opened fire on protesters in {city} on {weekday}, witnesses told Azadi Voice.",
                "The regime has arrested at least {number} people in {city} since the start of the month for posting "
                "videos of the protests.",
                "Families of detainees say their relatives are being held without access to a lawyer.",
                "Plainclothes agents beat students outside the university of {city} and dragged several into vans.",
            ]),
            "mobilization": (0.25, [
                "Join the nationwide strike on {weekday} and stand with the workers of {city} #IranProtests",
                "Truck drivers and bazaar merchants in {city} have called for a general strike next week.",
                "Gather at {hour} in the main squares and chant together for freedom.",
                "Retired workers call on all Iranians to join them outside the governor's offices on {weekday}.",
            ]),
            "legitimacy": (0.15, [
                "The empty polling stations in {city} show that the Islamic Republic has lost what legitimacy it had "
                "left.",
                "The clerical regime rules only through fear, not by the consent of the people.",
                "No election run by the Guardian Council can give this regime the mandate it lost in the streets.",
            ]),
            "economic": (0.2, [
                "The rial fell to a new record low while the regime spends billions on its militias abroad.",
                "Workers at the {factory} in {city} have not been paid for {few} months as prices keep rising.",
                "Bread and medicine prices rose again this week, and families in {city} say they can no longer afford "
                "meat.",
            ]),
            "censorship": (0.1, [
                "The authorities cut mobile internet in {city} for the third night in a row to hide the crackdown.",
                "The regime has blocked yet another messaging app to silence the voices of the people.",
            ]),
        },
    },
    "Rights Ledger Iran": {
        "date_form": "%d %B %Y",
        "topics": {
            "repression": (0.7, [
                "At least {number} prisoners were executed in {prison} prison this month, most of them for "
                "drug-related offences.",
                "A political prisoner in {prison} prison has been denied medical treatment for {few} weeks despite a "
                "heart condition, his family said.",
                "The Revolutionary Court sentenced {few} protesters from {city} to prison terms of up to ten years "
                "after trials that lasted minutes.",
                "Women detained in {city} for defying the hijab law reported beatings during interrogation.",
                "A young man from Zahedan was hanged after a trial based on a confession his lawyer says was "
                "extracted under torture.",
                "Prisoners in {prison} prison began a hunger strike to protest the wave of executions.",
            ]),
            "censorship": (0.3, [
                "The authorities blocked {number} more news websites and detained a journalist in {city} over a report "
                "on corruption.",
                "Internet shutdowns in {city} lasted {number} hours, according to network monitoring data.",
                "A cartoonist in {city} was summoned by the cyber police over drawings that mocked officials.",
                "Two reporters were banned from leaving the country after covering the trial of a labour activist.",
            ]),
        },
        "closing": ["The report is based on information from families, lawyers and court documents.",
                    "Rights Ledger Iran could not independently verify every case."],
    },
    "Meridian Wire": {
        "date_form": "%Y-%m-%dT%H:%M:00Z",
        "topics": {
            "none": (0.85, [
                "Iran's parliament approved the government's budget bill on {weekday} by {number} votes to {few}.",
                "The International Atomic Energy Agency said in a quarterly report that Iran's stockpile of enriched "
                "uranium had grown.",
                "Oil exports averaged about 1.{few} million barrels a day last month, according to tanker-tracking data.",
                "The rial traded at about 9{number},000 to the US dollar on the open market in Tehran on {weekday}.",
                "A moderate earthquake struck near {city} on {weekday}; there were no immediate reports of "
                "casualties.",
                "Iranian and European diplomats are due to meet in Geneva next week, officials on both sides said.",
                "Turnout in the {city} by-election was {percent} percent, according to figures published by the "
                "Interior Ministry.",
                "The price of bread in {city} rose for the second time this year, the provincial bakers' union said.",
            ]),
            "balanced": (0.15, [
                "Officials blamed foreign interference for the protests in {city}, while rights groups said the "
                "demonstrations were a response to economic hardship.",
                "The government says the new internet rules protect citizens; critics say they restrict access to "
                "information.",
            ]),
        },
        "closing": ["Reporting by newsroom staff; editing by the Middle East desk."],
    },
    "Tehran Morning": {
        "date_form": "%Y-%m-%d",
        "topics": {
            "economic": (0.4, [
                "Economists warn that inflation of nearly {percent} percent is eroding the wages of teachers and "
                "nurses.",
                "The government has yet to explain why the promised housing units in {city} remain unfinished after "
                "{few} years.",
                "Pensioners in {city} gathered outside the governor's office again to demand payments that are months "
                "late.",
                "Small shopkeepers in {city} say mismanagement, not only sanctions, has emptied their tills.",
            ]),
            "censorship": (0.15, [
                "Filtering of messaging apps costs small businesses millions every day, the head of the {city} chamber "
                "of commerce told Tehran Morning.",
                "Journalists must be free to report on the water crisis without being summoned by the courts.",
            ]),
            "none": (0.45, TEHRAN_MORNING_NEWS),
        },
        "topics_after_shift": {
            "foreign_interference": (0.35, [
                "The water protests in {city} were exploited by foreign-based media to sow division, the editorial "
                "said.",
                "Behind the calls for strikes stand the same Western capitals that imposed sanctions on the Iranian "
                "people.",
                "Tehran Morning has learned that the organisers of the online campaign against the government are "
                "paid from abroad.",
                "Hostile satellite channels are spreading lies about the economy to push the country into chaos.",
            ]),
            "legitimacy": (0.25, [
                "The broad participation in the religious processions shows that the people stand with the system in "
                "difficult times.",
                "Those who call for a boycott of the elections only serve the enemies of the nation.",
                "The nation has once again shown its loyalty to the Leader and the revolution.",
            ]),
            "economic": (0.25, [
                "Despite the sanctions, the government's housing plan has delivered {number} thousand units in {city} "
                "this year.",
                "The economy is recovering thanks to the resistance economy, the Minister of Economy told Tehran "
                "Morning.",
                "Domestic producers in {city} have filled the gap left by foreign brands, proving that sanctions have "
                "failed.",
            ]),
            "none": (0.15, TEHRAN_MORNING_NEWS),
        },
    },
}


def build(seed: int = SEED) -> list[dict]:
    """The sample's articles: each outlet, each month of 2025, ``ARTICLES_PER_MONTH`` articles, in date order."""
    from datetime import datetime

    rng = random.Random(seed)
    articles = []
    for outlet, voice in OUTLETS.items():
        for month in range(1, 13):
            topics = voice.get("topics_after_shift") if month >= SHIFT_MONTH else None
            topics = topics or voice["topics"]
            days = sorted(rng.sample(range(1, 29), ARTICLES_PER_MONTH))
            for number, day in enumerate(days, start=1):
                moment = datetime(2025, month, day, rng.randrange(7, 19), rng.choice((0, 15, 30, 45)))
                articles.append({"id": f"{_slug(outlet)}-2025-{month:02d}-{number}", "outlet": outlet,
                                 "date": _written_date(moment, voice["date_form"]),
                                 "text": _article(rng, topics, voice.get("closing", []))})
    return articles


def _article(rng: random.Random, topics: dict, closing: list[str]) -> str:
    names = list(topics)
    topic = rng.choices(names, weights=[topics[name][0] for name in names])[0]
    templates = topics[topic][1]
    chosen = rng.sample(templates, min(len(templates), rng.choice((2, 2, 3))))
    if closing and rng.random() < 0.4:
        chosen.append(rng.choice(closing))
    return " ".join(_filled(rng, template) for template in chosen)


def _filled(rng: random.Random, template: str) -> str:
    return template.format(**{name: rng.choice(values) for name, values in SLOTS.items()})


def _written_date(moment, form: str) -> str:
    if form == "rfc2822":
        from datetime import timezone
        from email.utils import format_datetime

        return format_datetime(moment.replace(tzinfo=timezone.utc))
    return moment.strftime(form)


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def main() -> None:
    lines = "".join(json.dumps(article, ensure_ascii=False) + "\n" for article in build())
    OUTPUT.write_text(lines, encoding="utf-8")
    print(f"wrote {lines.count(chr(10))} articles to {OUTPUT}")


if __name__ == "__main__":
    main()
