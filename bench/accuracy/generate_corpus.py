"""Generate the labeled English corpus ``corpus_en.jsonl`` with presidio-evaluator's sentence generator.

The generator is ``PresidioSentenceFaker`` from the ``presidio-evaluator`` package (Microsoft's, not ours):
its sentence templates and its fake-person records. We only make it reproducible and offline:

- the seed is set *before* the generator loads its person list (the list's full names are drawn with
  ``random`` while loading) and again after, as its own constructor does;
- its hospital provider queries WikiData when it starts; we give it a fixed list instead;
- its date providers count back from today; we replace them with the same kind of values drawn between
  fixed dates, so the corpus does not change with the clock;
- its ``lower_case_ratio`` lowercases span values but not the sentence text, which would leave labels that
  do not match the text; we keep it at 0 and lowercase whole samples ourselves (same share, 5%);
- its templates write line breaks as the two characters ``\\n``; we turn them into real line breaks (an
  address block or a signature looks like that in a ticket).

Labels keep the generator's finer categories where our metrics need them (a city is personal data, a
country is not): see ``LABELS``. Run with the ``bench`` extra installed::

    python bench/accuracy/generate_corpus.py --count 400 --seed 42
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "corpus_en.jsonl"

#: Generator entity name → corpus label. Unlisted names keep the generator's own mapping.
LABELS = {
    "person": "PERSON", "name": "PERSON", "name_female": "PERSON", "name_male": "PERSON",
    "first_name": "PERSON", "first_name_male": "PERSON", "first_name_female": "PERSON",
    "first_name_nonbinary": "PERSON", "last_name": "PERSON", "last_name_male": "PERSON",
    "last_name_female": "PERSON",
    "address": "STREET_ADDRESS", "street_name": "STREET_ADDRESS", "building_number": "STREET_ADDRESS",
    "secondary_address": "STREET_ADDRESS", "postcode": "ZIP_CODE", "zipcode": "ZIP_CODE",
    "city": "CITY", "state": "STATE", "state_abbr": "STATE", "country": "COUNTRY",
    "credit_card_number": "CREDIT_CARD", "iban": "IBAN_CODE", "phone_number": "PHONE_NUMBER",
    "email": "EMAIL_ADDRESS", "ssn": "US_SSN", "ip_address": "IP_ADDRESS", "url": "DOMAIN_NAME",
    "us_driver_license": "US_DRIVER_LICENSE", "date_of_birth": "DATE_OF_BIRTH", "date_time": "DATE_TIME",
    "day_of_week": "DAY_OF_WEEK", "year": "YEAR", "age": "AGE", "organization": "ORGANIZATION",
    "hospital_name": "HOSPITAL_NAME", "nationality": "NRP", "nation_woman": "NRP", "nation_man": "NRP",
    "nation_plural": "NRP", "prefix": "TITLE", "prefix_male": "TITLE", "prefix_female": "TITLE", "job": "TITLE",
}

#: Stands in for WikiData's list of US hospitals (names of institutions, not of people).
HOSPITALS = ["Riverside General Hospital", "St. Mary's Medical Center", "Lakeview Community Hospital",
             "Northside Regional Medical Center", "Mercy Hospital"]
#: The clock the date providers use instead of today.
EARLIEST, LATEST = datetime(1940, 1, 1), datetime(2023, 12, 31)
LOWER_CASE_RATIO = 0.05


def build_faker(seed: int) -> Any:
    """A seeded, offline ``PresidioSentenceFaker``."""
    from faker.providers import BaseProvider
    from presidio_evaluator.data_generator import presidio_sentence_faker as psf
    from presidio_evaluator.data_generator.faker_extensions import HospitalProvider

    class OfflineHospitalProvider(HospitalProvider):  # type: ignore[misc]
        def load_wiki_hospitals(self) -> list[str]:
            return list(HOSPITALS)

    class FixedClockDates(BaseProvider):  # type: ignore[misc]
        """Faker's date providers with fixed bounds instead of "now"."""

        def _moment(self) -> datetime:
            return self.generator.date_time_between(start_date=EARLIEST, end_date=LATEST)  # type: ignore[no-any-return]

        def date_time(self) -> datetime:
            return self._moment()

        def date_of_birth(self) -> str:
            return self._moment().date().isoformat()

        def birthday(self) -> str:
            return self.date_of_birth()

        def year(self) -> str:
            return str(self._moment().year)

        def day_of_week(self) -> str:
            return self._moment().strftime("%A")

    providers = [p for p in psf.presidio_additional_entity_providers if p is not HospitalProvider]
    templates = [line.strip().replace("\\n", "\n")
                 for line in psf.presidio_templates_file_path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    psf.PresidioSentenceFaker.seed(seed)  # before the person list is loaded (it draws names at random)
    faker = psf.PresidioSentenceFaker(locale="en_US", lower_case_ratio=0.0, random_seed=seed,
                                      sentence_templates=templates, entity_type_mapping=dict(LABELS),
                                      entity_providers=[*providers, OfflineHospitalProvider, FixedClockDates])
    return faker


def generate(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` labeled sentences, the same for the same seed and package version."""
    faker = build_faker(seed)
    samples = faker.generate_new_fake_sentences(num_samples=count)
    lower = random.Random(seed)
    out = []
    for i, sample in enumerate(samples):
        text: str = sample.full_text
        if lower.random() < LOWER_CASE_RATIO and len(text.lower()) == len(text):
            text = text.lower()
        spans = []
        for span in sorted(sample.spans, key=lambda s: s.start_position):
            label = LABELS.get(span.entity_type, span.entity_type.upper())
            start, end = span.start_position, span.end_position
            spans.append({"start": start, "end": end, "label": label, "value": text[start:end]})
        out.append({"id": f"en-{i:04d}", "text": text, "spans": spans, "lang": "en",
                    "template_id": sample.template_id})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    rows = generate(args.count, args.seed)
    with args.output.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} samples to {args.output}")


if __name__ == "__main__":
    main()
