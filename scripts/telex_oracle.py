#!/usr/bin/env python3
"""Writes index/tests/data/telex_vni.tsv: Telex and VNI keystrokes and the syllable they type.

The fixture of the unit test `typing::tests::fixture_agrees` (index/src/typing.rs). Each row is
`method<TAB>keys<TAB>expected`: a Vietnamese syllable, encoded here into the keys a user types with
the input method switched off, kept only when the reference engine, bogo (PyPI `bogo`, a Telex/VNI
engine), turns those keys back into the same syllable. So the fixture is the agreement of this
simple encoder and the oracle; bogo itself (GPL) is not shipped, only its answers.

    python3 -m venv /tmp/venv-bogo && /tmp/venv-bogo/bin/pip install bogo==1.1
    /tmp/venv-bogo/bin/python scripts/telex_oracle.py > index/tests/data/telex_vni.tsv

Syllables: the words of the generator's tables (generate/src/words.rs, generate/src/vocabulary.rs),
lower-cased, plus the common syllables listed below (chosen to cover the rhymes). Encodings, for
each syllable:

- telex, marks after the vowel, tone right after the toned vowel: `vieejt`, `hoafng`, `thuwowng`;
- telex, marks after the vowel, tone at the end, `ươ` as `uow`: `vieetj`, `hoangf`, `thuowng`;
- vni, digits after the vowel: `vie65t`, `d9u7o7ng2`;
- vni, marks after the vowel, tone at the end, `ươ` as `uo7`: `vie6t5`;
- vni, every digit at the end: `viet65`, `duong972`.

Syllables with no key at all (`an`, `long`) give no row: there is nothing to decode.
"""

import pathlib
import re
import sys
import unicodedata

import bogo

ROOT = pathlib.Path(__file__).resolve().parent.parent

TONES = {"\u0301": ("s", "1"), "\u0300": ("f", "2"), "\u0309": ("r", "3"), "\u0303": ("x", "4"), "\u0323": ("j", "5")}
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"

# Common syllables beyond the generator's names, one or more per rhyme.
COMMON = """
á à ả ã ạ ăn ắt ặp ấy âu ẩm ấp ật ầng ậc ém ẻng éc ép eo ệ êm ếch ênh ếp ết êu ích ỉm ít ìn inh ịp
iu ỉa ốc ôm ôi ông ốp ột ơi ờm ớn ợt ủa úc ùi ung úp út ưa ức ửi ừng ựt ưu ước ươm ườn ượng ướp
ướt ươu ười yên yêu yếm yết uyên uyết ủy oa oái oán oanh oạch oắt oặc oằn oăng oe oẻn oét
người những được nước khuya khuỷu ngoài xoáy quyết quốc giường giữa gì gìn giếng giết nghiêng
nghĩ nghe ghế ghẹ kỳ kịp kiếm kẻng xẻng thuở huơ hươu thuế quê quên quét quăng quắt quạt quanh quý
quỳnh quýt quấy quân quần khuấy luật tuấn xuân khuâng tuyệt chuyển khuyến huỳnh huých tuýt ngoẹo khỏe
hòa thủy tùy mùa múa mía kìa chìa cửa mưa bữa lửa rượu mượn muốn buồm cuộc thuốc muối tuổi
đầu đất đẹp đỏ đúng đường điện đâu đây
"""


def syllables():
    words = set()
    for name in ("generate/src/words.rs", "generate/src/vocabulary.rs"):
        text = (ROOT / name).read_text(encoding="utf-8")
        for literal in re.findall(r'"([^"\\]*)"', text):
            words.update(re.split(r"[\s\-]+", literal))
    words.update(COMMON.split())
    out = set()
    for w in words:
        w = unicodedata.normalize("NFC", w.lower())
        if w and all(("a" <= c <= "z") or c == "đ" or ord(c) > 127 for c in w) and vietnamese(w):
            out.add(w)
    return sorted(out)


def vietnamese(word):
    """Only the letters of Vietnamese: a–z without f j w z, đ, and the Vietnamese marks."""
    for c in unicodedata.normalize("NFD", word):
        if c in TONES or c in (CIRCUMFLEX, BREVE, HORN):
            continue
        if c == "đ":
            continue
        if not ("a" <= c <= "z") or c in "fjwz":
            return False
    return True


def units(word):
    """The letters of `word`: (ascii letter, vowel mark or 'stroke' or None, tone key index or None)."""
    out = []
    for c in unicodedata.normalize("NFD", word):
        if c in TONES:
            out[-1][2] = c
        elif c in (CIRCUMFLEX, BREVE, HORN):
            out[-1][1] = c
        elif c == "đ":
            out.append(["d", "stroke", None])
        else:
            out.append([c, None, None])
    return out


def telex_mark(letter, mark):
    if mark == "stroke":
        return "d"
    if mark == CIRCUMFLEX:
        return letter
    return "w"  # breve or horn


VNI_MARK = {"stroke": "9", CIRCUMFLEX: "6", HORN: "7", BREVE: "8"}


def encodings(word):
    us = units(word)
    tone = next((u[2] for u in us if u[2]), None)
    horn_pair = any(a[0] == "u" and a[1] == HORN and b[0] == "o" and b[1] == HORN for a, b in zip(us, us[1:]))

    def build(method, tone_at_end, short_horn, marks_at_end=False):
        keys, end = [], []
        for i, (letter, mark, t) in enumerate(us):
            keys.append(letter)
            if mark:
                # `ươ` written with one key on the `o`: skip the `u`'s key
                skip = short_horn and horn_pair and letter == "u" and mark == HORN
                if not skip:
                    key = telex_mark(letter, mark) if method == "telex" else VNI_MARK[mark]
                    (end if marks_at_end else keys).append(key)
            if t and not tone_at_end:
                keys.append(TONES[t][0] if method == "telex" else TONES[t][1])
        keys += end
        if tone and tone_at_end:
            keys.append(TONES[tone][0] if method == "telex" else TONES[tone][1])
        return "".join(keys)

    return [
        ("telex", build("telex", False, False)),
        ("telex", build("telex", True, True)),
        ("vni", build("vni", False, False)),
        ("vni", build("vni", True, True)),
        ("vni", build("vni", True, True, marks_at_end=True)),
    ]


def main():
    telex, vni = bogo.get_telex_definition(), bogo.get_vni_definition()
    rows, disagreements = [], 0
    for word in syllables():
        seen = set()
        for method, keys in encodings(word):
            if keys == word or (method, keys) in seen:
                continue
            seen.add((method, keys))
            got = bogo.process_sequence(keys, rules=telex if method == "telex" else vni)
            if unicodedata.normalize("NFC", got) == word:
                rows.append((method, keys, word))
            else:
                disagreements += 1
    out = sys.stdout
    out.write("# Telex/VNI keystrokes and the syllable they type: the agreement of the encoder in\n")
    out.write("# scripts/telex_oracle.py and bogo 1.1 (PyPI, process_sequence). Made with:\n")
    out.write("#   python scripts/telex_oracle.py > index/tests/data/telex_vni.tsv\n")
    out.write(f"# {len(rows)} rows; {disagreements} encodings where bogo gave another word were left out.\n")
    out.write("# method\tkeys\texpected\n")
    for row in rows:
        out.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
