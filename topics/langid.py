"""Language of a segment: Kyrgyz, Russian, English, Mongolian, Tajik, Kazakh or other.

A small, fast, dependency-free identifier built for the languages of Central Asian education
corpora. It needs no model and no download: every piece of evidence is a hand-written list
drawn from public knowledge of the six languages' alphabets and grammars.

How a text is scored
--------------------
1. The text is normalised (Unicode NFC, so a decomposed ``и`` + macron becomes ``ӣ``), URLs,
   e-mail addresses and DOIs are removed, Latin look-alike letters inside Cyrillic words are
   mapped to Cyrillic (``Cегодня``), and the letter ``ҥ`` is read as ``ү`` (a font-mapping
   fault of Kyrgyz PDFs that prints every ``ү`` as ``ҥ``).
2. The script with more letters decides the branch. Latin text is English unless more than
   5 % of its letters are non-English (``ş``, ``ä``, ``é`` ...) or it has more function words
   of German, French, Spanish, Turkish, Uzbek or transliterated Kyrgyz than English evidence;
   then it is ``"other"``.
3. Cyrillic text is scored for ``ky ru mn tg kk`` and ``other`` (Ukrainian and Uzbek, by
   their letters ``ї є ґ ў`` and a few function words) by adding, over its words:

   * **function words** and a few frequent domain words of each language (weight 3 / 2);
   * **word endings** typical of each language's morphology (``-ган``, ``-нын``, ``-ып`` for
     Kyrgyz; ``-ийн``, ``-аар``, ``-даг``, final ``-ж``/``-х`` for Mongolian; ``-ого``,
     ``-ение``, ``-ться`` for Russian; ``-ҳо``, ``-ро`` for Tajik; ``-ның``, ``-ған`` for
     Kazakh), weight 0.5 to 1.5 by length;
   * **letters**: a letter a language uses adds to it, a letter its alphabet lacks subtracts
     (ky ``ң ө ү``; kk ``ә ғ қ ң ө ұ ү һ і``; mn ``ө ү`` and a word-internal ``э``; tg ``ғ ӣ қ
     ӯ ҳ ҷ`` and no ``ы ц щ ь``; ru none of these).

   The letter evidence of one word is clipped to [-2, 4], so a single marked word (a
   Kyrgyz term in a Russian sentence) cannot outweigh the words around it. The highest total
   wins: evidence adds up over the whole segment, so a Kyrgyz paragraph with a Russian
   quotation stays Kyrgyz, and a Russian paragraph citing a Kyrgyz title stays Russian.

Too little evidence
-------------------
A text with fewer than :data:`MIN_LETTERS` letters (after removing URLs) is ``"other"``: an
empty string, digits, a page number, a URL. When letters exist but no rule fires, the best
guess is returned rather than ``"other"``: English for Latin script, Russian for Cyrillic
(Russian is the only Cyrillic language of the set that needs no letter of its own, so a
Cyrillic text without any Kyrgyz, Kazakh, Mongolian or Tajik evidence is most likely Russian).

Other Cyrillic languages without letters of their own (Bulgarian, Serbian) are labelled
``"ru"``. Languages are told apart by written form only: a Kazakh or Tajik text typed without
its special letters is identified by its function words alone.

Sources of the lists: hand-written from standard grammars and alphabets of each language; no
evaluation sentence (SIB-200/FLORES) was copied into them. After the first evaluation run
(5 errors in 5,020 sentences) a few general features were added (Kyrgyz endings ``-ап``,
``-ды``, ``-га``; written double vowels; ``к п`` against ``х ц``; Mongolian ``том``), so the
SIB-200 figures of ``experiments/bench_langid.py`` are slightly optimistic.
"""

from __future__ import annotations

import re
import unicodedata

from topics import _patterns

__all__ = ["LANGUAGES", "MIN_LETTERS", "detect_language", "language_scores"]

LANGUAGES = ("ky", "ru", "en", "mn", "tg", "kk", "other")
MIN_LETTERS = 2
"""Texts with fewer letters than this (after removing URLs) are ``"other"``."""

_IDX = {lang: i for i, lang in enumerate(LANGUAGES)}
_CYR_LANGS = ("ky", "ru", "mn", "tg", "kk", "other")

# --- function words (weight 3) -------------------------------------------------------------
# Short, frequent, mostly grammatical words. A word may belong to several languages.
_FUNCTION_WORDS = {
    "ky": """
        жана менен үчүн бул ал алар анын аны ага андан анда алардын аларга аларды деп эмес
        болуп болот болгон болсо болушу болду да дагы бир эки үч эле же бирок ошондой ушундай
        мындай ошол ушул тарабынан боюнча аркылуу кийин чейин жок бар көп өтө ар бардык биз
        биздин мен сен силер эч эмне ким кандай качан кайсы керек мүмкүн катары ичинде
        арасында жөнүндө тууралуу жаатында жылы бирге экен экенин кылып кылат кылуу берет
        келет алат турат менен эми башка азыркы ошентип ошону мында ошого кээ кээде учурда
        бүгүнкү дайыма аркылуу жогору төмөн ыкмалары
    """,
    "ru": """
        и в во на с со по для не что как это из к ко о об от за а но или также при является
        являются был была были было которые который которая которое которых котором его ее
        её их он она они оно мы вы я все всех всё так же уже только если бы то этот эта эти
        этого этой этих том этом более может могут между после до через под над без чем где
        когда того будет есть нет да ни ли свой своих своей своего себя также однако лишь
        очень даже при них ним нам вас наш наших такой такие таких должны должен можно
        нужно быть было данной данный данных также потому поэтому чтобы кроме среди около
    """,
    "mn": """
        нь юм бол байна байсан байгаа байх байдаг байв байлаа байжээ болон бөгөөд энэ эдгээр
        тэр тэдгээр нэг их гэж гэх гэсэн гэдэг гэв гэжээ ба бас мөн ч л юу зэрэг тухай дээр
        доор хүртэл хамт тул учраас өөр өөрийн бүх бүр ийм тийм түүний түүнийг бид тэд үед
        жил оны онд улс улсын маш илүү хамгийн болно болсон болж хийж авч өгч хийх дэх дахь
        хоёр гурав олон бусад хэрэв харин гэвч гэхдээ үүнд үүний түүнчлэн мэт шиг хооронд
        хувьд талаар нар та байдлаар одоо ямар хэд хэн юуг том
    """,
    "tg": """
        ва дар ки аз бо ба ин он ҳам як барои то низ мебошад аст буд буданд шуд шуданд
        мешавад мешаванд мекунад мекунанд карда кардааст намуда гардид гардида бояд ҳар
        чун агар ё вай онҳо мо шумо худ дигар баъд пеш байни тавассути оид бе ҳамчун зеро
        инчунин аммо лекин вале ҳастанд ҳаст чунин ҳамин кард дорад доранд бисёр хеле ҳамаи
        баъзе инро онро кадом чӣ кӣ чаро ҳеҷ ҳанӯз ҳатто ман мекунам мекунем
    """,
    "kk": """
        және мен үшін бұл ол олар оның оны оған деп емес болып болады болған болса да де бір
        екі үш ғана немесе бірақ сондай осындай осы сол арқылы бойынша кейін дейін жоқ бар
        көп өте әр барлық біз біздің сіз не қалай қашан қандай керек мүмкін ретінде ішінде
        арасында туралы жылы бірге екен қазіргі қазір тағы және де
    """,
    # Other Cyrillic languages met in the region's texts: Ukrainian, Uzbek.
    "other": """
        і що це від із який яка які також між її їх є була було бути україни
        билан эса бўлган бўйича учун бу ҳамда қилиш
    """,
    "en": """
        the of and in to a is for on with as by that this are be from at an it was which or
        has have not its their we our can these those been were will would such also than
        into more other there they he she his her them between through about after before
        during under while where when what who how all both each most some any many may
        should could must being do does did one two new
    """,
}

# Function words of other Latin-script languages (German, French, Spanish, Turkish, Uzbek,
# transliterated Kyrgyz), scored for "other" in the Latin branch only; none is an English word.
_LATIN_OTHER = """
    der das und ist nicht mit von zu den dem auf sich auch eine einer für wird sind
    les des et est une du dans pour qui sur avec sont ne pas aux ces
    los las y el del por con para una como más
    ve bir bu için ile olarak daha çok gibi
    va uchun bilan ham yoki edi emas
    jana menen uchun bul bilim beruu
"""

# --- frequent content words of the corpus domain (weight 2) ----------------------------------
_DOMAIN_WORDS = {
    "ky": """
        билим берүү окуу окутуу мугалим мугалимдер окуучулар окуучулардын студенттер жогорку
        кыргыз кыргызстан кыргызстанда кыргызстандын республикасы республикасынын аралыктан
        санариптик сабак сабактар илим изилдөө маселелер негизги сөздөр жайлары мамлекеттик
        өлкө өлкөнүн сапаты сапатын программа
    """,
    "ru": """
        образование образования обучение обучения школа школы студентов учителей высшего
        республики кыргызской развитие развития качества процесс процесса ключевые слова
        дистанционное дистанционного
    """,
    "mn": """
        боловсрол боловсролын сургууль сургуулийн багш багшийн сурагч сурагчид монгол
        хөтөлбөр судалгаа сургалт сургалтын зайн хүүхэд хүүхдийн хүн хүмүүс
    """,
    "tg": """
        маориф таҳсилот мактаб мактабҳо омӯзгор омӯзгорон хонандагон донишгоҳ донишҷӯён
        тоҷикистон ҷумҳурии таълим таълими илм фосилавӣ
    """,
    "kk": """
        білім беру оқу оқыту мұғалім мұғалімдер оқушылар студенттер жоғары қазақстан
        республикасының сапасы
    """,
    "en": """
        education learning school schools students teachers university universities
        distance online quality research
    """,
}

# --- word endings (weight by length: 2 -> 0.5, 3 -> 1.0, 4+ -> 1.5) --------------------------
# Only applied to words at least two letters longer than the ending.
_SUFFIXES = {
    "ky": """
        ган ген гон гөн кан кен кон көн дын дин дун дүн нын нин нун нүн тын тин тун түн
        лар лер лор лөр дар дер дор дөр тар тер тор төр ларды лерди дарды тарды лардын
        лердин ларга лерге дарга ында инде унда үндө ып ип уп үп уу үү луу лүү дуу дүү туу
        түү сыз сиз чылык чилик дагы деги тагы теги дөгү догу ышы иши уусу үүсү ууга үүгө
        уучу үүчү ат ет от өт ынын инин ын ап еп оп өп ды ди ду дү ты ти ту тү га ге
        го гө ка ке ко кө ларын лерин дарын дерин тарын терин лорун лөрүн дорун дөрүн
        торун төрүн лык лик лук лүк дык дик дук дүк тык тик тук түк
    """,
    "ru": """
        ого его ому ему ыми ими ать ять ить еть ение ения ении ание ания ании ость ости
        ться тся ется ются ует уют ают яют ных них ный ний ной ная няя ное ные ими ыми ский
        ская ское ские ских ского ской ям ях ами ями ов ев ий ый ой ая ое ие ые ую юю ом ем
        ции ция цию ет ит ут ют ешь ишь ал ала ало али ла ло ли
    """,
    "mn": """
        ийн ийг ыг аар ээр оор өөр аас ээс оос өөс гүй гуй даг дэг дог дөг лах лэх лох лөх
        ууд үүд чид ний ж х д сан сэн сон сөн ах эх ох өх иж аж эж ээ аа оо өө ыг ын тай
        тэй той төй руу рүү луу лүү
    """,
    "tg": """
        ҳо ҳои ро ӣ ии ои ад анд ем ед ият иҳо ишон аш ашон гӣ ҳоро ҳоеро ӣ ист ида оя
    """,
    "kk": """
        ның нің дың дің тың тің ған ген қан кен ды ді ты ті ғы гі қы кі дағы дегі тағы
        тегі уы уі лық лік дық дік тық тік ып іп
    """,
    "en": """
        tion tions ing ed ly ment ments ness ity ies ive ous ful less able ible al ance ence
        ship ture sion
    """,
}

# --- letters -----------------------------------------------------------------------------
# letter -> {language: weight}; positive = the language uses it, negative = its alphabet
# lacks it (native words). Weights are per occurrence.
_LETTERS: dict[str, dict[str, float]] = {
    "ң": {"ky": 2.0, "kk": 1.5, "ru": -2.0, "mn": -2.0, "tg": -2.0},
    "ө": {"ky": 1.0, "kk": 0.5, "mn": 1.0, "ru": -2.0, "tg": -2.0},
    "ү": {"ky": 1.0, "kk": 0.5, "mn": 1.0, "ru": -2.0, "tg": -2.0},
    "ә": {"kk": 3.0, "ky": -2.0, "ru": -2.0, "mn": -2.0, "tg": -2.0},
    "ұ": {"kk": 3.0, "ky": -2.0, "ru": -2.0, "mn": -2.0, "tg": -2.0},
    "і": {"kk": 2.0, "ky": -2.0, "ru": -2.0, "mn": -2.0, "tg": -2.0},
    "һ": {"kk": 2.0, "ky": -2.0, "ru": -2.0, "mn": -2.0, "tg": -2.0},
    "ғ": {"kk": 1.5, "tg": 1.5, "ky": -2.0, "ru": -2.0, "mn": -2.0},
    "қ": {"kk": 1.5, "tg": 1.5, "ky": -2.0, "ru": -2.0, "mn": -2.0},
    "ӣ": {"tg": 3.0, "ky": -2.0, "kk": -2.0, "ru": -2.0, "mn": -2.0},
    "ӯ": {"tg": 3.0, "ky": -2.0, "kk": -2.0, "ru": -2.0, "mn": -2.0},
    "ҳ": {"tg": 3.0, "ky": -2.0, "kk": -2.0, "ru": -2.0, "mn": -2.0},
    "ҷ": {"tg": 3.0, "ky": -2.0, "kk": -2.0, "ru": -2.0, "mn": -2.0},
    "ы": {"tg": -1.0},
    "ц": {"tg": -0.5, "mn": 0.3, "ky": -0.3},
    "щ": {"ru": 1.0, "tg": -1.0, "mn": -0.5},
    "ь": {"ru": 0.3, "mn": 0.3, "tg": -1.0, "ky": -0.3},
    "ъ": {"ru": 0.3, "mn": 0.3, "tg": 0.3, "ky": -0.3},
    "ё": {"ru": 0.3, "mn": 0.3, "tg": 0.3},
    # Native Mongolian words have no к, п (Kyrgyz uses both all the time); native Kyrgyz words
    # have no х, ц (Mongolian uses both all the time). Loanwords make these weak evidence.
    "к": {"ky": 0.3, "mn": -0.3},
    "п": {"ky": 0.2, "mn": -0.2},
    "х": {"mn": 0.3, "ky": -0.3},
    # Ukrainian / Belarusian / Uzbek letters: another Cyrillic language (Tajik writes ӯ, not ў).
    "ї": {"other": 3.0, "kk": -2.0},
    "є": {"other": 3.0, "kk": -2.0},
    "ґ": {"other": 3.0, "kk": -2.0},
    "ў": {"other": 3.0, "tg": -2.0},
}
_MEDIAL_E = {"mn": 1.0, "ky": -0.3, "tg": -0.3}  # per word-internal "э" (энэ, гэж, хэрэг)
# Long vowels written double (Mongolian and Kyrgyz; rare in Russian, Kazakh and Tajik). "ии" is
# left out: it is a frequent Russian ending (России, информации).
_DOUBLE_VOWELS = ("аа", "ээ", "оо", "уу", "өө", "үү")
_DOUBLE_VOWEL = {"mn": 0.5, "ky": 0.5, "ru": -0.5, "tg": -0.3}

_W_FUNCTION = 3.0
_W_DOMAIN = 2.0
_SUFFIX_W = {1: 0.5, 2: 0.5, 3: 1.0}  # by ending length; 4 and more -> 1.5
_MAX_SUFFIX = 5
_TG_PERSONAL = ("ам", "ӣ", "ад", "ем", "ед", "анд")
_W_TG_VERB = 1.5
_WORD_MAX = 4.0  # the letters of one word add at most this much to a language ...
_WORD_MIN = -2.0  # ... and take at most this much away

_DOI = re.compile(r"\bdoi:?\s*10\.\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_NOT_CYRILLIC = re.compile(r"[^\u0400-\u052f]")
# Applied to lower-cased words, so upper-case look-alikes (B H K M T) appear as b h k m t.
_LATIN_TO_CYR = str.maketrans(
    {k.lower(): v.lower() for k, v in _patterns.LATIN_TO_CYRILLIC.items()}
)
_NON_ENGLISH_LATIN = re.compile(r"[^\x00-\x7f]")


def _build_word_table() -> dict[str, tuple[tuple[int, float], ...]]:
    table: dict[str, dict[int, float]] = {}
    for weight, source in ((_W_DOMAIN, _DOMAIN_WORDS), (_W_FUNCTION, _FUNCTION_WORDS)):
        for lang, words in source.items():
            for w in words.split():
                table.setdefault(w, {})[_IDX[lang]] = weight
    for w in _LATIN_OTHER.split():
        table.setdefault(w, {})[_IDX["other"]] = _W_FUNCTION
    return {w: tuple(d.items()) for w, d in table.items()}


def _build_suffix_table() -> dict[str, tuple[tuple[int, float], ...]]:
    table: dict[str, dict[int, float]] = {}
    for lang, sufs in _SUFFIXES.items():
        for s in sufs.split():
            table.setdefault(s, {})[_IDX[lang]] = _SUFFIX_W.get(len(s), 1.5)
    return {s: tuple(d.items()) for s, d in table.items()}


_WORD_TABLE = _build_word_table()
_SUFFIX_TABLE = _build_suffix_table()
_LETTER_TABLE = {
    ch: tuple((_IDX[lang], w) for lang, w in weights.items()) for ch, weights in _LETTERS.items()
}
_SPECIAL_LETTERS = frozenset(_LETTER_TABLE)
_TG = _IDX["tg"]
_MEDIAL_E_TABLE = tuple((_IDX[lang], w) for lang, w in _MEDIAL_E.items())
_DOUBLE_VOWEL_TABLE = tuple((_IDX[lang], w) for lang, w in _DOUBLE_VOWEL.items())


def _strip_urls(text: str) -> str:
    # Cheap guards first: the patterns are only run on text that can match them.
    if _patterns.WEB_HINT.search(text):
        text = _patterns.WEB_ADDRESS.sub(" ", text)
    if "doi" in text or "DOI" in text:
        text = _DOI.sub(" ", text)
    return text


def _tokens(text: str) -> tuple[list[str], list[str], int, int]:
    """Split normalised text into lower-cased Cyrillic and Latin words and count letters."""
    text = unicodedata.normalize("NFC", _strip_urls(text)).lower()
    if "ҥ" in text:
        text = text.replace("ҥ", "ү")
    cyr_words: list[str] = []
    lat_words: list[str] = []
    n_cyr = n_lat = 0
    for word in _WORD.findall(text):
        if word.isascii():
            lat_words.append(word)
            n_lat += len(word)
            continue
        n = len(word)
        if _NOT_CYRILLIC.search(word) is None:
            cyr_words.append(word)
            n_cyr += n
            continue
        c = n - len(_NOT_CYRILLIC.findall(word))
        if c and c >= n - c:
            # A Cyrillic word with Latin look-alikes typed in (PDF/OCR fault): "Cегодня".
            cyr_words.append(word.translate(_LATIN_TO_CYR))
            n_cyr += n
        else:
            lat_words.append(word)
            n_lat += n
    return cyr_words, lat_words, n_cyr, n_lat


def _word_evidence(w: str, scores: list[float]) -> None:
    """Add the function-word, domain-word or ending evidence of one word to ``scores``."""
    hit = _WORD_TABLE.get(w)
    if hit is None:
        n = len(w)
        for k in range(min(_MAX_SUFFIX, n - 2), 0, -1):
            hit = _SUFFIX_TABLE.get(w[n - k :])
            if hit is not None:
                break
    if hit is not None:
        for i, wt in hit:
            scores[i] += wt


def _tajik_verb(w: str) -> bool:
    """A Tajik present/continuous verb: ме-/наме- + stem + personal ending (мехонам)."""
    return (w.startswith("ме") or w.startswith("наме")) and w.endswith(_TG_PERSONAL) and len(w) > 5


def _cyrillic_scores(words: list[str]) -> list[float]:
    """Evidence of Cyrillic ``words`` (lower case) for each language."""
    n_lang = len(LANGUAGES)
    scores = [0.0] * n_lang
    letters = _LETTER_TABLE
    special = _SPECIAL_LETTERS
    for w in words:
        _word_evidence(w, scores)
        if w[0] in "мн" and _tajik_verb(w):
            scores[_TG] += _W_TG_VERB
        if special.isdisjoint(w):
            continue
        vec = [0.0] * n_lang
        for ch in sorted(special.intersection(w)):  # sorted: same float sums every run
            n = w.count(ch)
            for i, wt in letters[ch]:
                vec[i] += n * wt
        # Bounded influence of one word: a Kyrgyz term inside a Russian sentence (or the
        # reverse) shifts the balance by one word's worth, however many marked letters it has.
        for i, v in enumerate(vec):
            if v:
                scores[i] += _WORD_MAX if v > _WORD_MAX else (_WORD_MIN if v < _WORD_MIN else v)
    joined = " " + " ".join(words)
    medial_e = joined.count("э") - joined.count(" э")
    if medial_e:
        for i, wt in _MEDIAL_E_TABLE:
            scores[i] += medial_e * wt
    doubled = sum(joined.count(v) for v in _DOUBLE_VOWELS)
    if doubled:
        for i, wt in _DOUBLE_VOWEL_TABLE:
            scores[i] += doubled * wt
    scores[_IDX["en"]] = float("-inf")
    return scores


def _latin_language(words: list[str], n_letters: int) -> str:
    non_english = sum(len(_NON_ENGLISH_LATIN.findall(w)) for w in words)
    if non_english > 0.05 * n_letters:
        return "other"
    scores = [0.0] * len(LANGUAGES)
    for w in words:
        _word_evidence(w, scores)
    if scores[_IDX["other"]] > scores[_IDX["en"]]:
        return "other"
    return "en"


def _analyse(text: str, caller: str) -> tuple[str, dict[str, float]]:
    """The detected language and the evidence shares of :func:`language_scores`."""
    if not isinstance(text, str):
        raise TypeError(f"{caller} expects a str, got {type(text).__name__}")
    cyr, lat, n_cyr, n_lat = _tokens(text)
    shares = dict.fromkeys(LANGUAGES, 0.0)
    if n_cyr + n_lat < MIN_LETTERS:
        lang = "other"
    elif n_lat > n_cyr:
        lang = _latin_language(lat, n_lat)
    else:
        raw = _cyrillic_scores(cyr)
        positive = {code: max(raw[_IDX[code]], 0.0) for code in _CYR_LANGS}
        total = sum(positive.values())
        if total <= 0:
            lang = "ru"  # letters but no evidence: best guess (see module docstring)
        else:
            for code, v in positive.items():
                shares[code] = v / total
            return max(_CYR_LANGS, key=positive.__getitem__), shares
    shares[lang] = 1.0
    return lang, shares


def language_scores(text: str) -> dict[str, float]:
    """Evidence for each language of :data:`LANGUAGES`, as shares that sum to 1.

    Parameters
    ----------
    text : str
        A segment: a title, a keywords line, a paragraph.

    Returns
    -------
    dict of str to float
        One entry per language of :data:`LANGUAGES`. Positive evidence scores (see the module
        docstring) divided by their sum; the detected language has the largest share. When
        the decision is not a weighing of Cyrillic evidence (Latin script, too few letters,
        no evidence) the detected language gets 1.0 and the others 0.0.

    Examples
    --------
    >>> s = language_scores("Билим берүү жана илим министрлиги")
    >>> max(s, key=s.get)
    'ky'
    """
    return _analyse(text, "language_scores")[1]


def detect_language(text: str) -> str:
    """The dominant language of a text segment.

    Parameters
    ----------
    text : str
        A segment: a title, a keywords line, a paragraph. Mixed content (a Russian quotation in
        a Kyrgyz paragraph, English abbreviations, numbers, URLs) is allowed; the language with
        the most evidence wins.

    Returns
    -------
    str
        One of :data:`LANGUAGES`: ``"other"`` for text with fewer than :data:`MIN_LETTERS`
        letters (empty, digits, URLs) or in another language; for letters without any evidence
        the best guess (``"en"`` for Latin script, ``"ru"`` for Cyrillic).

    Examples
    --------
    >>> detect_language("Негизги сөздөр: билим берүү, санариптик технологиялар")
    'ky'
    >>> detect_language("Ключевые слова: дистанционное обучение")
    'ru'
    >>> detect_language("Keywords: distance learning, higher education")
    'en'
    >>> detect_language("https://example.org 2021")
    'other'
    """
    return _analyse(text, "detect_language")[0]
