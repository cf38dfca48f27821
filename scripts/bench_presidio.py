#!/usr/bin/env python3
"""Compares callvault's text redaction with Presidio on the dev transcripts.

    bench_presidio.py CORPUS CALLVAULT_FINDINGS.json

Presidio (presidio-analyzer + presidio-anonymizer) runs with its predefined rule-based
recognisers only: every pattern recogniser plus the phone recogniser (the `phonenumbers`
library), and no NER. Its NLP engine is a blank spaCy pipeline (`spacy.blank("en")`), so
nothing is downloaded and no model is loaded. Every text is analysed as English: Presidio has
no Chinese recognisers, and the recall figure is meant to show what that costs.

The job timed is analyse + anonymise (replace every result) on the text of every segment of
every call, repeated over the whole set until at least 3 s have passed, on the one core the
caller pins us to. The findings file comes from `examples/redact_bench.rs`:
`{"chars_per_s": float, "findings": [{"call_id", "segment", "char_start", "char_end"}]}`.

Label recall is the same rule for both: a labelled C3, C2 or PI value counts as found when
every one of its parts (character ranges in its segment's text) overlaps at least one
reported span in that segment. Prints `name=value` lines on stdout; notes go to stderr.
"""
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

# Presidio's e-mail recogniser calls tldextract, which fetches the Public Suffix List on first
# use unless told to use its bundled snapshot; read at import, so set before importing.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import spacy  # noqa: E402
from presidio_analyzer import AnalyzerEngine, PatternRecognizer, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import SpacyNlpEngine  # noqa: E402
from presidio_analyzer.predefined_recognizers import PhoneRecognizer  # noqa: E402
from presidio_anonymizer import AnonymizerEngine  # noqa: E402
from presidio_anonymizer.entities import OperatorConfig  # noqa: E402

MIN_SECONDS = 3.0
SENSITIVE_TIERS = ("C3", "C2", "PI")
REPLACE = {"DEFAULT": OperatorConfig("replace")}


def note(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


class BlankSpacyNlpEngine(SpacyNlpEngine):
    """A spaCy engine over `spacy.blank("en")`: a tokenizer, no model, no download."""

    def load(self):
        self.nlp = {"en": spacy.blank("en")}


def presidio_engines():
    """Analyzer with the predefined rule-based recognisers only, and an anonymizer."""
    nlp = BlankSpacyNlpEngine()
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    registry.recognizers = [
        r for r in registry.recognizers if isinstance(r, (PatternRecognizer, PhoneRecognizer))
    ]
    names = sorted(type(r).__name__ for r in registry.recognizers)
    note(f"presidio recognisers: {', '.join(names)}")
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    return analyzer, AnonymizerEngine()


def load_corpus(corpus):
    """Returns ({call_id: language}, [(call_id, segment_index, text)], [truth items])."""
    languages, texts = {}, []
    for path in sorted((corpus / "calls").glob("*.json")):
        call = json.loads(path.read_text(encoding="utf-8"))
        languages[call["call_id"]] = call["language"]
        for i, seg in enumerate(call["segments"]):
            texts.append((call["call_id"], i, seg["text"]))
    with open(corpus / "truth.jsonl", encoding="utf-8") as f:
        truth = [json.loads(line) for line in f if line.strip()]
    truth = [t for t in truth if t["tier"] in SENSITIVE_TIERS]
    return languages, texts, truth


def run_presidio(analyzer, anonymizer, texts):
    """One pass: analyse + anonymise every text. Returns {(call_id, segment): [(lo, hi)]}."""
    spans = {}
    for call_id, seg, text in texts:
        results = analyzer.analyze(text=text, language="en")
        anonymizer.anonymize(text=text, analyzer_results=results, operators=REPLACE)
        spans[(call_id, seg)] = [(r.start, r.end) for r in results]
    return spans


def time_presidio(analyzer, anonymizer, texts):
    """Chars per second over whole passes, and the spans of the first pass."""
    chars = sum(len(text) for _, _, text in texts)
    run_presidio(analyzer, anonymizer, texts[:200])  # warm up: lazy imports and caches
    spans, passes = None, 0
    started = time.perf_counter()
    while True:
        out = run_presidio(analyzer, anonymizer, texts)
        spans = spans if spans is not None else out
        passes += 1
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            break
    note(f"presidio: {passes} pass(es) over {len(texts)} segments, {chars} chars, {elapsed:.1f} s")
    return chars * passes / elapsed, spans


def found(item, spans):
    """True when every part of a truth item overlaps a reported span in its segment."""
    def hit(part):
        ranges = spans.get((item["call_id"], part["segment"]), ())
        return any(lo < part["char_end"] and part["char_start"] < hi for lo, hi in ranges)

    return all(hit(part) for part in item["parts"])


def recall(truth, spans, languages, who):
    """Share of truth items found; the split by call language goes to stderr."""
    by_lang = defaultdict(lambda: [0, 0])
    for item in truth:
        counts = by_lang[languages[item["call_id"]]]
        counts[0] += found(item, spans)
        counts[1] += 1
    hits = sum(h for h, _ in by_lang.values())
    split = ", ".join(f"{lang} {h}/{n}" for lang, (h, n) in sorted(by_lang.items()))
    note(f"{who} found {hits}/{len(truth)} labelled C3/C2/PI values ({split})")
    return hits / len(truth) if truth else 0.0


def load_findings(path):
    """Callvault's throughput and its spans, keyed like Presidio's."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    spans = defaultdict(list)
    for f in doc["findings"]:
        spans[(f["call_id"], f["segment"])].append((f["char_start"], f["char_end"]))
    return float(doc["chars_per_s"]), spans


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    corpus, findings_path = Path(argv[1]), argv[2]
    languages, texts, truth = load_corpus(corpus)
    analyzer, anonymizer = presidio_engines()
    presidio_cps, presidio_spans = time_presidio(analyzer, anonymizer, texts)
    redact_cps, redact_spans = load_findings(findings_path)
    presidio_recall = recall(truth, presidio_spans, languages, "presidio")
    redact_recall = recall(truth, redact_spans, languages, "callvault")
    print(f"redact_chars_per_s={redact_cps:.0f}")
    print(f"presidio_chars_per_s={presidio_cps:.0f}")
    print(f"redact_vs_presidio={redact_cps / presidio_cps:.1f}")
    print(f"presidio_label_recall={presidio_recall:.4f}")
    print(f"redact_label_recall={redact_recall:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
