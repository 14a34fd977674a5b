"""Rule-based Kyrgyz lemmatiser (suffix stripping with vowel harmony); see :func:`lemmatize_ky`.

Measured on the UD Kyrgyz-KTMU treebank by ``experiments/bench_lemma.py``.
"""

from __future__ import annotations

import functools
import re

__all__ = ["lemmatize_ky"]

_VOWELS = frozenset("аеёиоуыэюяөү")
_VOICELESS = frozenset("кпстфхцчшщ")
_NORM_V = {"я": "а", "ю": "у", "ё": "о", "э": "е"}
# Harmony: the last stem vowel decides a suffix's low (A) and high (I) vowel. After у the low
# vowel is а (окуучулар) and, in some words, о (тууган-дар vs орун-го): both accepted.
_LOW = {"а": "а", "ы": "а", "у": "ао", "о": "о", "е": "е", "и": "е", "ө": "ө", "ү": "ө"}
_HIGH = {"а": "ы", "ы": "ы", "у": "у", "о": "у", "е": "и", "и": "и", "ө": "ү", "ү": "ү"}
_SUB = {"A": "аеоө", "I": "ыиуү", "U": "уү", "D": "дт", "L": "лдт", "N": "ндт", "G": "гк"}


def _expand(template: str) -> list[str]:
    out = [""]
    for ch in template:
        out = [o + c for o in out for c in _SUB.get(ch, ch)]
    return out


def _valid(stem: str, template: str, suffix: str) -> bool:
    """Vowel harmony and consonant assimilation of ``suffix`` (spelled by ``template``)."""
    vowels = [_NORM_V.get(c, c) for c in stem if c in _VOWELS]
    if not vowels:
        return False
    vowel, prev = vowels[-1], stem[-1]
    for t, c in zip(template, suffix, strict=True):
        voiceless = prev in _VOICELESS
        expected = {
            "A": _LOW.get(vowel, ""),
            "I": _HIGH.get(vowel, ""),
            "U": "у" if vowel in "аыоу" else "ү",  # the verbal noun -уу/-үү is always rounded
            "D": "т" if voiceless else "д",
            "G": "к" if voiceless else "г",
            "N": "н" if prev in _VOWELS else "т" if voiceless else "д",
            # -лар after vowels, р, й; -лык/-луу take д after р, й (шаардык, ыктыярдуу)
            "L": "л" if prev in _VOWELS else "лд" if prev in "рй" else "т" if voiceless else "д",
        }.get(t, t)
        if c not in expected:
            return False
        if c in _VOWELS:
            vowel = _NORM_V.get(c, c)
        prev = c
    return True


# Layers are stripped from the end of the word in this order; within a layer the longest
# valid suffix wins. Flags: "p" = only after a 3rd-person possessive vowel (жол-у-нда),
# "v" = verbal (opens the voice layer), "a" = verbal or accusative (-ды after a consonant),
# "c" / "w" = only after a consonant / a vowel, "f" = only word-final.
_LAYERS = tuple(
    tuple((t.partition(":")[0], t.partition(":")[2]) for t in layer.split())
    for layer in (
        "DAгI нDAгI:p GI:cf",
        # case, and the verb endings spelt like case endings (past -ды = accusative -ды)
        "NIн нIн:p NI:a н:p GA нA:p DA нDA:p DAн нDAн:p нAн:p DI:v GAн:v йт:vw Iп:vc IлAт:vc п:vw",
        "I:c сI:w IбIз:c бIз:w IңIз:c ңIз:w",  # possessive
        "LAр",  # plural
        "LIк LUU UU:vc GAн:v Iп:vc",  # derivation, verbal noun
    )
)
_COMPILED = tuple(
    tuple(sorted(((s, t, f) for t, f in layer for s in _expand(t)), key=lambda x: -len(x[0])))
    for layer in _LAYERS
)
_VOICE = {"v": _expand("Iл") + _expand("Iн"), "a": _expand("Iл")}
_CLUSTERS = frozenset(
    "рт рк рп рс рч рд рз рм рл рн лт лк лп лч лд лм лс нт нк нч нд нс нг йт йк йл йм йн йр "
    "ст шт сс тр бр др гр кр пр нн лл мм рр тт".split()
)
_CLUSTERS_I = frozenset(
    "рт нт нк лт йт ст тр рд нд лд рс нс рз рч нч лч йк шт рм лм йм рп лп".split()
)
_KY_FIXED = dict(
    pair.split(":")
    for pair in (
        "аны:ал анын:ал ага:ал анда:ал андан:ал алар:ал мени:мен менин:мен мага:мен "
        "менде:мен менден:мен сени:сен сенин:сен сага:сен буга:бул муну:бул мунун:бул "
        "мында:бул мындан:бул булар:бул ошого:ошол ошону:ошол ошонун:ошол ошондо:ошол "
        "ошондон:ошол"
    ).split()
)
# Adverbs and postpositions that look inflected (бер-и, кий-ин, дак-ы) stay as they are.
_KY_INVARIABLE = frozenset(
    "бери дагы каршы кийин чейин бүгүн жакын ичинде жана менен үчүн боюнча аркылуу тууралуу "
    "жөнүндө кайра мурун азыр жаңы мыкты жакшы учурда ошондой андан ары кабыл".split()
)
_SYNCOPE = {"орд": "орун", "мурд": "мурун", "эрд": "эрин", "ок": "оку"}


def _stem_ok(stem: str, minimum: int) -> bool:
    if len(stem) < 2 or len(stem) < max(minimum, 3 if stem[-1] in _VOWELS else 2):
        return False
    if not any(c in _VOWELS for c in stem):
        return False
    return stem[-1] in _VOWELS or stem[-2] in _VOWELS or stem[-2:] in _CLUSTERS


def _strip_layer(word: str, layer, need_p3: bool, first: bool) -> tuple[str, str, str] | None:
    for suffix, template, flags in layer:
        if not word.endswith(suffix) or len(word) <= len(suffix):
            continue
        stem = word[: -len(suffix)]
        last = stem[-1]
        if "c" in flags and last in _VOWELS or "w" in flags and last not in _VOWELS:
            continue
        if "f" in flags and not first or need_p3 and template not in ("I", "сI"):
            continue
        if not _stem_ok(stem, 3 if template in ("I", "Iп", "LIк", "LUU") and not need_p3 else 2):
            continue
        if template == "I" and (
            last in "чң" or (stem[-2] not in _VOWELS and stem[-2:] not in _CLUSTERS_I)
        ):
            continue  # agentive -чы/-чу (окуучу), жаңы, clusters (жакшы) are not possessives
        if template == "сI" and stem[-1] in "ыиуү" and stem[-2] not in _VOWELS | {"ч"}:
            continue  # облус-у, not облу-су
        if template == "п" and not re.search(r"[лдт][ао]$", stem):
            continue  # аякта-п, колдо-п; not мекте-п, ките-п
        if "p" in flags and not (
            stem[-1] in "ыиуү"
            and stem[-2] not in _VOWELS
            and (suffix != "н" or stem[-2] == "с" or (stem[-2] in "гк" and len(stem) >= 5))
        ):
            continue
        if not _valid(stem, template, suffix):
            continue
        return stem, template, flags
    return None


def _alternate(stem: str, suffix_first: str) -> str:
    """Undo voicing before a vowel: баг-ы → бак, мектеб-и → мектеп (not in -лог loans)."""
    if suffix_first in _VOWELS and len(stem) >= 3 and not stem.endswith("ог"):
        if stem[-1] == "г":
            return stem[:-1] + "к"
        if stem[-1] == "б":
            return stem[:-1] + "п"
    return stem


@functools.lru_cache(maxsize=200_000)
def lemmatize_ky(word: str) -> str:
    """Lemmatise a Kyrgyz word by rule-based suffix stripping.

    Suffixes are removed from the end in linguistic order: attributive ``-дагы``; case
    (genitive, accusative, dative, locative, ablative, also after a 3rd-person possessive:
    ``-ында``, ``-ына``, ``-ынан``) with the spelled-alike past ``-ды``, participle ``-ган``,
    present ``-йт``/``-ылат`` and converb ``-ып``; possessive (3rd person ``-ы``/``-сы``,
    ``-ыбыз``, ``-ыңыз``); plural ``-лар`` (12 allomorphs); word-final adjectival ``-лык``,
    ``-луу`` and the verbal noun ``-уу``/``-оо``; then passive/reflexive ``-ыл``/``-ын`` after a
    verbal suffix. A suffix is removed only when its vowels agree with the stem's last vowel
    (vowel harmony), its first consonant agrees with the stem's last sound (л/д/т, н/д/т,
    г/к, д/т), and the stem keeps a vowel, two letters or more (three before a bare
    possessive vowel or ``-лык``) and no impossible final cluster. ``г``/``б`` left before a
    vowel become ``к``/``п`` (багы → бак). Never stripped: the 1st/2nd singular possessives
    ``-ым``/``-ың`` (rare in prose, and they collide with билим, бөлүм, чечим), ``-сыз``
    (without: it reverses the meaning), the present ``-ат`` (мамлекет, маалымат).

    Parameters
    ----------
    word : str
        One word (lowercased here). Words of three letters or fewer, and words with letters
        outside the Kyrgyz alphabet, are returned unchanged.

    Returns
    -------
    str
        The lemma (for verbs, the stem of the imperative: аяктады → аякта).

    Examples
    --------
    >>> [lemmatize_ky(w) for w in ["мектептерде", "окуучулардын", "билимди", "үйдө", "суу"]]
    ['мектеп', 'окуучу', 'билим', 'үй', 'суу']
    """
    w = word.lower()
    if w in _KY_FIXED:
        return _KY_FIXED[w]
    if len(w) <= 3 or w in _KY_INVARIABLE or not all("а" <= c <= "я" or c in "ёңөү-" for c in w):
        return w
    if "-" in w:
        head, _, tail = w.rpartition("-")
        return f"{head}-{lemmatize_ky(tail)}" if len(tail) > 3 else w
    # я/ю after a vowel spell й + а/у: decompose so harmony and affixes see the real sounds.
    w = re.sub(r"(?<=[аеёиоуыэюяөү])([яю])", lambda m: "й" + _NORM_V[m.group(1)], w)
    verbal = ""
    need_p3 = False
    stripped = False
    for i, layer in enumerate(_COMPILED):
        hit = _strip_layer(w, layer, need_p3 and i == 2, not stripped)
        if hit is None:
            continue
        stem, template, flags = hit
        w = _alternate(stem, w[len(stem)])
        need_p3, stripped = "p" in flags, True
        if template == "UU" and w in _SYNCOPE:
            w = _SYNCOPE[w]
        verbal = verbal or ("v" if "v" in flags else "a" if "a" in flags else "")
        if i == 1 and "v" in flags:
            break  # a verb form: no possessive or plural before it
    w = _strip_verbal_noun_oo(w)
    if verbal:
        w = _strip_voice(w, verbal)
    w = _SYNCOPE.get(w, w) if stripped else w
    return re.sub(r"(?<=[аеёиоуыэюяөү])й([ау])", lambda m: "я" if m.group(1) == "а" else "ю", w)


def _strip_voice(w: str, kind: str) -> str:
    """Passive/reflexive before a verbal suffix: кайтар-ыл-ды, ал-ын-ды, талкуула-н-ды."""
    for suffix in _VOICE[kind]:
        stem = w[: -len(suffix)]
        if w.endswith(suffix) and _stem_ok(stem, 2) and stem[-1] not in _VOWELS:
            if _valid(stem, "I" + suffix[-1], suffix):
                return stem
    # vowel stems: талкуула-н-ды, башта-л-ды (not план-ды, капитал-ды, Кыргызстан-ды)
    pattern = r"[лдтн][аеоө]л$|л[аеоө]н$" if kind == "v" else r"л[аеоө]н$"
    if len(w) >= 6 and re.search(pattern, w):
        return w[:-1]
    return w


def _strip_verbal_noun_oo(w: str) -> str:
    """баштоо → башта, изилдөө → изилде, коргоо → корго (verbal noun of a vowel stem)."""
    if (
        len(w) >= 5
        and w.endswith(("оо", "өө"))
        and w[-3] not in _VOWELS
        and (w[-4] not in _VOWELS or len(w) >= 6)
    ):
        stem = w[:-2]
        vowels = [_NORM_V.get(c, c) for c in stem if c in _VOWELS]
        if vowels:
            return stem + {"о": "о", "у": "о", "ө": "ө", "ү": "ө", "е": "е", "и": "е"}.get(
                vowels[-1], "а"
            )
    return w
