"""Words: tokens, stop words and stems for topic words and keyword matching.

The vocabulary of the topic words (c-TF-IDF, through
``CountVectorizer(analyzer=make_analyzer(langs))``) and of lexical codebook matching
(:func:`topics.themes.lexical_scores`) comes from here. Kyrgyz is agglutinative: one noun has
dozens of surface forms (``мектеп``, ``мектептер``, ``мектептерде``, ``мектебибиз`` ...), so
without stemming a topic's top words repeat one word and keyword phrases miss their inflected
occurrences. :func:`lemmatize_ky` is a rule-based suffix stripper with vowel-harmony and
consonant-assimilation checks, measured on the UD Kyrgyz-KTMU treebank
(``experiments/bench_lemma.py``). :class:`SurfaceForms` maps stems back to the most frequent
real word so that reports never show truncated stems.

Tokenisation decisions (:func:`tokenize`): text is NFC-normalised and lowercased; URLs, e-mail
addresses and numbers are removed; a token is a run of letters, and letters joined by one
inner hyphen or apostrophe stay one token (``онлайн-ресурстарды``, ``оюн-зоок``, ``don't``),
because Kyrgyz writes paired words and compounds with a hyphen and they carry one meaning;
the suffixes of such a token are stripped from its last part. One-letter tokens are dropped.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from importlib import resources

from topics import _patterns
from topics._lemma_ky import lemmatize_ky

__all__ = [
    "LANGUAGES",
    "Analyzer",
    "SurfaceForms",
    "lemmatize_ky",
    "make_analyzer",
    "stem",
    "stopwords",
    "token_language",
    "tokenize",
]

#: Languages with stop words and a stemmer here (others: no stop words, identity stem).
LANGUAGES = ("ky", "ru", "en", "tg", "mn", "kk")

# --------------------------------------------------------------------------- tokenize

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'", "\u00ad": None})
_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-"})
# Letters only ([^\W\d_]), joined by single inner hyphens or apostrophes.
_TOKEN = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
# A cheap test that lets most texts skip the character maps; the result is the same either way.
_MAPPED = re.compile("[" + re.escape("".join(map(chr, sorted({*_APOSTROPHES, *_HYPHENS})))) + "]")


def tokenize(text: str) -> list[str]:
    """Split text into lowercase word tokens.

    Parameters
    ----------
    text : str
        Any text (Cyrillic, including Kyrgyz, Kazakh, Tajik and Mongolian letters, or Latin).

    Returns
    -------
    list of str
        Lowercase tokens of at least two letters, in text order. Numbers, URLs, e-mail
        addresses and punctuation are dropped; inner hyphens and apostrophes are kept
        (``онлайн-ресурстарды`` is one token), typographic apostrophes become ``'``.

    Examples
    --------
    >>> tokenize("2023-жылы мектептердин 80% онлайн-ресурстарды колдонот: www.edu.kg")
    ['жылы', 'мектептердин', 'онлайн-ресурстарды', 'колдонот']
    """
    if not text:
        return []
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _MAPPED.search(text):
        text = text.translate(_APOSTROPHES).translate(_HYPHENS)
    if _patterns.WEB_HINT.search(text):
        text = _patterns.WEB_ADDRESS.sub(" ", text)
    return [t for t in map(str.lower, _TOKEN.findall(text)) if len(t) > 1]


# --------------------------------------------------------------------------- stop words

# spaCy's Kyrgyz list was built from news text; these entries are content words that a topic
# model must keep (names of places and peoples, law/state/crime vocabulary, "new", "higher" as
# in "жогорку окуу жайы" = higher education institution, "information", "word", "people").
KY_SPACY_CONTENT = frozenset(
    "адам басма баш башкы башчысы бишкек жаңы жогорку жол кабыл кол кылмыш кыргыз күнү "
    "маалымат мамлекеттик мыйзам сүрөт сөз укук чек эл".split()
)
_KY_EXTRA = (
    "жана менен үчүн боюнча ошондой ал бул бир болуп болот деп эмес дагы же да де "
    "ошол ушул ушундай ошентип ошону ошого анткени себеби эгерде эгер бирок ошондуктан "
    "мында мындан муну мунун буга булар булардын бизде биздин бизге силер сиз сиздин "
    "мен сен менин сенин мага сага мени сени алар алардын аларды аларга аны анын ага "
    "андан анда ошо ошондо кайсы ким эмне кантип качан кайда канча бардык баары бүт "
    "ар бири биринин өзү өзүнүн өздөрү өзүн өзүнө башка башкача аркылуу тууралуу "
    "жөнүндө сыяктуу сымал ичинде ичинен арасында арасынан жанында алдында кийин "
    "мурун чейин бери тарабынан карата каршы катары үстүндө астында эле гана болсо "
    "болгон болуу болушу болот болмок болду болушат болуп саналат саналат экен экени "
    "экенин экендиги эч эчак дагы деле ошентсе ошентип мисалы албетте мүмкүн керек "
    "тийиш зарыл көп аз абдан өтө эң бир нече бирнече кээ кээбир кээде ар бир бардык "
    "азыр азыркы учурда ошентип же болбосо ал эми эми болуп эсептелет эсептелет "
    "жатат жаткан турган турат келет берет алат кылат кылып кылуу этип этүү "
    "ооба жок бар ага деген дейт деди айтты айтып айтымында билдирди билдирген "
    "биринчи экинчи үчүнчү эки үч төрт беш алты жети сегиз тогуз он жүз миң "
    "тарабынан байланыштуу ылайык карабастан тышкары менен бирге "
    # postpositions, auxiliaries and quantifiers that topic words of news picked up
    "караганда улам элек көптөгөн көбүнчө адатта"
).split()

# stopwords-iso is generous; these entries are content words of education research.
EN_ISO_CONTENT = frozenset(
    "area areas bill biol computer copy date face faces fact facts fire goods group groups "
    "help home index information interest interests invention line member members novel "
    "number numbers order orders page pages place places point points problem problems "
    "research result results resulted resulting room rooms site state states system test text "
    "thought thoughts value webpage website work worked working works world year years young "
    "younger youngest words kind case cases effect open free".split()
)
RU_ISO_CONTENT = frozenset(
    "вечер вода война вопрос время времени год года году голова голос город деньги дело день "
    "дверь дорога друг душа жена женщина жизнь земля книга комната конец лицо люди мать "
    "машина место мир мира москва народ нога ночь окно отец правда путь работа работать "
    "ребенок россия рука русский свет сила слово случай советский стол сторона страна "
    "товарищ улица утро часть человек глаз писать понимать думать знать жить".split()
)
# tajiknlp's list lacks the light verbs and copulas that build most Tajik verbs (кард "did",
# шуд "became", буда "been") and a few postpositions; they fill topic words otherwise.
_TG_EXTRA = (
    "шуд шуданд шудааст шуда шудан кард карданд карда кардан кардааст буд буданд буда будан "
    "намуд намуда намудан гардид гардида кунед кунанд кунем мекунад мекунанд мекунед мешавад "
    "мешаванд ҳангоми монанди "
    # prepositions, pronouns, "to have" and "very", which filled topic words of FLORES news
    "хеле болои рӯи ҷониби оиди мисли чунин онро худ мазкур дорад доранд дошта"
).split()
# stopwords-iso's Russian list lacks these adverbs and particles (FLORES news topic words).
_RU_EXTRA = "например гораздо примерно одно одним".split()
_KK_WORDS = (
    "және мен бен пен да де та те ал бұл осы сол бір үшін арқылы туралы бойынша біз сіз "
    "олар оның оны оған онда одан мұның мұны осының осыны болып болады болды болған бар "
    "жоқ емес еді деп деген сияқты ретінде кейін дейін шейін әр барлық бәрі өз өзі өзінің "
    "немесе бірақ сондықтан себебі егер яғни тағы және де ғана әлі енді қазір көп аз өте "
    "ең кейбір біраз қандай қайда қашан кім не неге қалай қанша мұнда сонда онымен"
).split()


def _resource_text(package: str, name: str) -> str:
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def _spacy_ky_stopwords() -> frozenset[str]:
    """Kyrgyz stop words of spaCy (``spacy/lang/ky/stop_words.py``).

    The list is a literal in that file; reading it with :mod:`ast` avoids importing spaCy,
    which costs ~2 s a run. Falls back to the import if the file is not where expected.
    """
    import ast
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("spacy")
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "lang" / "ky" / "stop_words.py"
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        strings = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        if strings:
            return frozenset(max(strings, key=len).split())
    from spacy.lang.ky.stop_words import STOP_WORDS  # pragma: no cover

    return frozenset(STOP_WORDS)  # pragma: no cover


@functools.cache
def stopwords(lang: str) -> frozenset[str]:
    """Stop words of a language (lowercase).

    Parameters
    ----------
    lang : str
        ISO 639-1 code: ``ky`` (spaCy's list minus :data:`KY_SPACY_CONTENT`, plus common
        Kyrgyz function words), ``ru`` and ``en`` (stopwords-iso minus
        :data:`RU_ISO_CONTENT` / :data:`EN_ISO_CONTENT`), ``tg`` (tajiknlp's list and light
        verbs such as ``кард``, ``шуд``), ``mn``
        (``topics/data/stopwords_mn.txt``), ``kk`` (a short built-in list; neither spaCy
        nor stopwords-iso has Kazakh).

    Returns
    -------
    frozenset of str
        Empty for any other language.

    Examples
    --------
    >>> "жана" in stopwords("ky") and "мамлекеттик" not in stopwords("ky")
    True
    """
    if lang == "ky":
        words = (set(_spacy_ky_stopwords()) - KY_SPACY_CONTENT) | set(_KY_EXTRA)
    elif lang in ("ru", "en"):
        import stopwordsiso

        drop = RU_ISO_CONTENT if lang == "ru" else EN_ISO_CONTENT
        words = {w for w in stopwordsiso.stopwords(lang) if " " not in w} - drop
        words |= set(_RU_EXTRA) if lang == "ru" else set()
    elif lang == "tg":
        data = json.loads(_resource_text("tajiknlp", "data/stopwords.json"))
        words = {w for w in data["stopwords"] if not w.startswith("_")} | set(_TG_EXTRA)
    elif lang == "mn":
        lines = _resource_text("topics", "data/stopwords_mn.txt").splitlines()
        words = {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}
    elif lang == "kk":
        words = set(_KK_WORDS)
    else:
        return frozenset()
    return frozenset(unicodedata.normalize("NFC", w).strip().lower() for w in words)


# --------------------------------------------------------------------------- other stemmers


@functools.cache
def _snowball(lang: str):
    import snowballstemmer

    return snowballstemmer.stemmer(lang)


def stem_ru(word: str) -> str:
    """Snowball Russian stemmer (``snowballstemmer``): образования → образован."""
    return _snowball("russian").stemWord(word.replace("ё", "е"))


def stem_en(word: str) -> str:
    """Light English stemmer: plurals and possessives only (studies → study, schools → school)."""
    word = word.removesuffix("'s").removesuffix("'")
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "'")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


_MN_SUFFIXES = sorted(
    (
        "ын ийн ний гийн ыг ийг г аас ээс оос өөс иас иос аар ээр оор өөр иар иор тай тэй "
        "той руу рүү луу лүү ууд үүд нууд нүүд чууд чүүд нар д т"
    ).split(),
    key=len,
    reverse=True,
)
_KK_LAYERS = tuple(
    sorted(layer.split(), key=len, reverse=True)
    for layer in (
        "ның нің дың дің тың тің ны ні ды ді ты ті ға ге қа ке на не да де та те нда нде "
        "дан ден тан тен нан нен ндағы ндегі дағы дегі тағы тегі",
        "сы сі ы і",
        "лар лер дар дер тар тер",
    )
)


def _strip_suffixes(word: str, layers: Iterable[Sequence[str]], min_stem: int) -> str:
    for layer in layers:
        for suffix in layer:
            rest = word[: -len(suffix)]
            if word.endswith(suffix) and len(rest) >= min_stem and rest[-1] not in "-":
                word = rest
                break
    return word


def stem_mn(word: str) -> str:
    """Light Mongolian stemmer: case and plural endings (сургуулиудын → сургуули)."""
    return _strip_suffixes(word, (_MN_SUFFIXES, _MN_SUFFIXES), 4)


def stem_kk(word: str) -> str:
    """Light Kazakh stemmer: case, 3rd-person possessive and plural endings."""
    return _strip_suffixes(word, _KK_LAYERS, 3)


@functools.cache
def _tajik_stemmer():
    try:
        from tajiknlp.components.stemmers import DictStemmer

        return DictStemmer()
    except Exception:  # resources missing or broken: fall back to the identity
        return None


@functools.lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    """Stem (or lemmatise) one lowercase word.

    Parameters
    ----------
    word : str
        A token from :func:`tokenize`.
    lang : str
        ``ky`` → :func:`lemmatize_ky`; ``ru`` → a Snowball Russian stemmer; ``en`` → a light
        English stemmer (plurals); ``tg`` → tajiknlp's ``DictStemmer`` (offline, loaded once);
        ``mn``, ``kk`` → small suffix strippers; any other language → the word itself.

    Returns
    -------
    str

    Examples
    --------
    >>> stem("мектептерде", "ky"), stem("школами", "ru"), stem("schools", "en")
    ('мектеп', 'школ', 'school')
    """
    if lang == "ky":
        return lemmatize_ky(word)
    if lang == "ru":
        return stem_ru(word)
    if lang == "en":
        return stem_en(word)
    if lang == "mn":
        return stem_mn(word)
    if lang == "kk":
        return stem_kk(word)
    if lang == "tg":
        stemmer = _tajik_stemmer()
        try:
            return (stemmer.stem(word) or word) if stemmer is not None else word
        except Exception:  # the library raises on odd input; keep the word
            return word
    return word


# --------------------------------------------------------------------------- analyzer

_CYRILLIC_LANGS = ("ky", "kk", "tg", "mn", "ru")
_MARKERS = (  # letter → languages that have it, most specific first
    (frozenset("ӣӯҳҷ"), ("tg",)),
    (frozenset("әұіһ"), ("kk",)),
    (frozenset("ғқ"), ("kk", "tg")),
    (frozenset("ң"), ("ky", "kk")),
    (frozenset("өү"), ("ky", "mn", "kk")),
)
# Russian-only spellings, to route plain-Cyrillic Russian words of a Kyrgyz text to ``ru``.
_RUSSIAN = re.compile(
    r"[щъь]|(?:ого|его|ому|ему|ый|ий|ая|яя|ое|ее|ые|ие|[нвшжч]ых|[нвкшжч]их|ими|ыми|ами|ями|ов|ев|"
    r"ей|[нвклр]ой|ах|ях|ую|юю|тся|ать|ять|ить|еть|ешь|ете|ция|ции|цию|цией|ние|ния|нии|нию)$"
)


def token_language(token: str, langs: Sequence[str]) -> str:
    """Language whose stemmer handles a token, from its letters.

    Parameters
    ----------
    token : str
        A lowercase token.
    langs : sequence of str
        The corpus languages, in order of preference.

    Returns
    -------
    str
        ``en`` for Latin script; a language with the token's distinctive letters (Tajik
        ӣ ӯ ҳ ҷ, Kazakh ә ұ і һ, Kyrgyz/Kazakh ң, Kyrgyz/Mongolian/Kazakh ө ү), preferring one of
        ``langs``; ``ru`` for a plain-Cyrillic word with Russian-only spelling (щ ъ ь, -ость,
        -ция, adjective endings) when ``ru`` is in ``langs`` or no Cyrillic language is;
        otherwise the first Cyrillic language of ``langs`` (``ru`` if none); ``other`` for
        tokens without Cyrillic or Latin letters.

    Examples
    --------
    >>> [token_language(t, ["ky", "ru"]) for t in ["school", "мектеп", "үй", "образования"]]
    ['en', 'ky', 'ky', 'ru']
    """
    if any("a" <= c <= "z" for c in token):
        return "en"
    if not any("\u0400" <= c <= "\u04ff" for c in token):
        return "other"
    letters = set(token)
    for marks, owners in _MARKERS:
        if letters & marks:
            return next((g for g in langs if g in owners), owners[0])
    cyrillic = [g for g in langs if g in _CYRILLIC_LANGS]
    if ("ru" in cyrillic or not cyrillic) and _RUSSIAN.search(token):
        return "ru"
    return cyrillic[0] if cyrillic else "ru"


class Analyzer:
    """Tokenise, drop stop words and stem: the ``analyzer`` of a ``CountVectorizer``.

    Parameters
    ----------
    langs : sequence of str
        Corpus languages; stop words of these and of English and Russian are removed.

    Examples
    --------
    >>> Analyzer(["ky"])("Мектептерде 2024-жылы мектеп жана мектептер www.edu.kg")
    ['мектеп', 'жыл', 'мектеп', 'мектеп']
    """

    def __init__(self, langs: Sequence[str] = ("ky",)) -> None:
        self.langs = tuple(langs)
        self._stems: dict[str, str] = {}  # token -> kept stem ("" = dropped)

    def __repr__(self) -> str:
        return f"Analyzer(langs={self.langs!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Analyzer) and other.langs == self.langs

    def __hash__(self) -> int:
        return hash(("Analyzer", self.langs))

    def __getstate__(self) -> dict:
        return {"langs": self.langs}

    def __setstate__(self, state: dict) -> None:
        self.langs = tuple(state["langs"])
        self._stems = {}

    def pairs(self, text: str) -> list[tuple[str, str]]:
        """``(surface token, stem)`` of every kept token of ``text``, in order."""
        stems = self._stems
        out = []
        for tok in tokenize(text):
            s = stems.get(tok)
            if s is None:
                s = stems[tok] = _kept_stem(tok, self.langs)
            if s:
                out.append((tok, s))
        return out

    def __call__(self, text: str) -> list[str]:
        """Stems of the content words of ``text``, in order (repeats kept)."""
        return [s for _, s in self.pairs(text)]


@functools.lru_cache(maxsize=1 << 20)
def _kept_stem(tok: str, langs: tuple[str, ...]) -> str:
    """The stem of ``tok`` if it is a content word of a corpus in ``langs``, else ``""``.

    Cached: a corpus repeats its words, and this is the inner loop of every text pass.
    """
    stop, stop_stems = _stop_sets(langs)
    if len(tok) <= 2 or tok in stop:
        return ""
    s = stem(tok, token_language(tok, langs))
    if s and s not in stop and s not in stop_stems:
        return s
    return ""


@functools.lru_cache(maxsize=64)
def _stop_sets(langs: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Union of stop words of ``langs`` + en + ru, and the stems (of 4+ letters) of them.

    Kyrgyz stop words are left out of the stems: their inflected forms lemmatise to the stop
    word itself (алардын → ал), while a stripped derivative would remove a content word
    (байланыштуу "related" → байланыш "communication").
    """
    words = frozenset().union(*(stopwords(g) for g in sorted({*langs, "en", "ru"})))
    stems = set()
    for word in words:
        lang = token_language(word, langs)
        if lang != "ky" and len(s := stem(word, lang)) >= 4 and s != word:
            stems.add(s)
    return words, frozenset(stems)


def make_analyzer(langs: Sequence[str]) -> Callable[[str], list[str]]:
    """Build the analyzer for a corpus in ``langs``.

    Parameters
    ----------
    langs : sequence of str
        Corpus languages (ISO 639-1), e.g. ``["en", "ky", "ru"]``.

    Returns
    -------
    Analyzer
        A callable ``text -> list[str]`` of stems: tokens of three letters or more that are
        not stop words (of ``langs``, English and Russian) before or after stemming, each
        stemmed by the stemmer of :func:`token_language`. Deterministic and picklable.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> vec = CountVectorizer(analyzer=make_analyzer(["ky"])).fit(["мектеп", "мектептерде"])
    >>> list(vec.vocabulary_)
    ['мектеп']
    """
    return Analyzer(langs)


class SurfaceForms:
    """The most frequent real word behind each stem, to display stems as words.

    Parameters
    ----------
    texts : iterable of str
        The corpus.
    analyzer : Analyzer or callable, optional
        The analyzer that produced the stems. An :class:`Analyzer` is used through its
        ``pairs``; another callable is applied token by token. ``None`` (default) records,
        for every token, its stem under each candidate language of its script, so the stems
        of any :class:`Analyzer` are covered.

    Examples
    --------
    >>> sf = SurfaceForms(["мектептерде мектептерде мектеп", "мектептерде"])
    >>> sf.surface("мектеп"), sf.surface("unknown")
    ('мектептерде', 'unknown')
    """

    def __init__(self, texts: Iterable[str], analyzer: Callable | None = None) -> None:
        self.analyzer = analyzer
        self.counts_: dict[str, Counter] = {}
        for text in texts:
            for tok, s in self._pairs(text):
                self.counts_.setdefault(s, Counter())[tok] += 1

    def _pairs(self, text: str) -> Iterable[tuple[str, str]]:
        if isinstance(self.analyzer, Analyzer):
            return self.analyzer.pairs(text)
        if self.analyzer is not None:
            return ((t, s) for t in tokenize(text) for s in set(self.analyzer(t)))
        out = []
        for tok in tokenize(text):
            if len(tok) > 2:
                langs = {token_language(tok, (g,)) for g in ("ky", "ru", "mn", "tg", "kk")}
                out.extend((tok, s) for s in {stem(tok, g) for g in langs})
        return out

    def surface(self, stem: str) -> str:
        """Most frequent surface form of ``stem`` (ties: alphabetical); unknown → ``stem``."""
        counts = self.counts_.get(stem)
        if not counts:
            return stem
        return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
