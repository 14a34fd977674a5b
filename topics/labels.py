r"""Topic words and topic labels, computed from fixed clusters.

A topic's words should be what its paragraphs are about: words that many of the topic's
paragraphs use (coverage) and that the rest of the corpus uses less (distinctiveness), one
word per stem, never a function word. Plain c-TF-IDF on stems with BERTopic's
``reduce_frequent_words`` leans to distinctiveness: it ranks a name that occurs in two
paragraphs above a word that a third of the topic uses, and such rare words do not hold
together (they rarely share a document). :func:`score_words` weights a word instead by its
coverage and its lift, on paragraph frequencies:

.. math:: w(x, c) = p_c(x)^{\gamma} \left(\max\left(0, \log \frac{p_c(x)}{p(x)}\right)
          + \epsilon\right)

where :math:`p_c(x)` is the share of topic :math:`c`'s paragraphs that contain :math:`x`,
:math:`p(x)` the (smoothed) share of all paragraphs, :math:`\gamma` = ``coverage`` (1 gives
the word's contribution to the topic's KL divergence from the corpus; 1.5, the default,
favours coverage a little more) and :math:`\epsilon` = :data:`NO_LIFT`, which orders words
without lift by coverage after all others. A word below a frequency floor relative to the
topic's size (``min_df`` paragraphs and ``min_share`` of the topic) comes after every word
above it.

:func:`topic_words` scores both the word forms and their stems
(:func:`topics.words.make_analyzer`: stop words of the corpus languages and of English and
Russian removed, Kyrgyz lemmatised) and ranks a form by the geometric mix
``w(form) ** form_weight * w(stem) ** (1 - form_weight)``: the stem (all its forms merged)
says what the topic is about, the form's own weight how often a reader meets that exact
form. The list keeps one form per stem and per 6-letter beginning (``мектеп``,
``мектептер``), the best-ranked one.

Words ranked by weight alone can each be typical of a topic and still not hold together: a
topic that mixes sub-stories lists one story's name next to another's, and those words
rarely share a document. So the list is then re-ranked for coherence, cheaply: among the
topic's ``pool * n`` best forms (50 by default), it is built greedily, each next word
maximising its relative weight plus ``coherence`` times its mean NPMI with the words already
chosen. NPMI is counted over the corpus's documents (``groups``; paragraphs when there are
fewer than :data:`MIN_GROUPS` documents), only for those candidates: a (pool × pool) matrix per
topic from the sparse document × word matrix, linear in the corpus size. Words below the
frequency floor or in a single document are not re-ranked (two words seen once, in the same
document, would have the highest NPMI of all).

Labels (:func:`topic_labels`) are the theme name of a topic that matches a codebook theme,
otherwise its first words joined by ``" · "``, with proper nouns capitalised as the text
writes them; they are unique within a run.

The defaults were chosen on ``experiments/bench_words.py`` (tuned on the Kyrgyz and
Mongolian pseudo-news, the Kyrgyz FLORES news and the seed corpus; measured on the Russian
ones, Mongolian, Tajik and English FLORES news and SIB-200 one file per language); see
``experiments/RESULTS.md``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from topics._rows import text_chunks

__all__ = [
    "LABEL_SEPARATOR",
    "TopicWords",
    "class_tfidf_words",
    "score_words",
    "topic_labels",
    "with_theme_names",
    "topic_words",
]

#: Joins the words of a label made from topic words.
LABEL_SEPARATOR = " · "
# Weight of a stem per unit of coverage when it has no lift: such stems come last.
NO_LIFT = 1e-3
# Factor on the weight of a stem below the frequency floor: such stems come after the others.
BELOW_FLOOR = 1e-6
# Co-occurrence is counted in documents (``groups``) when there are at least this many.
MIN_GROUPS = 100


@dataclass
class TopicWords:
    """Top words of every topic.

    Attributes
    ----------
    words : dict
        ``topic -> list of words`` (surface forms, lowercase), best first.
    weights : dict
        ``topic -> list of float``, the weight of each word (its form/stem mix of
        :func:`score_words`); the rank also reflects coherence, so weights need not
        decrease along the list.
    display : dict
        ``word -> form for display`` (capitalised when the text mostly capitalises it).
    by_language : dict
        ``language -> {topic -> list of words}``: the same ranking among the paragraphs of one
        language only (languages with at least 5 paragraphs).
    language_weights : dict
        ``language -> {topic -> list of float}``: the weights of :attr:`by_language`.
    ctfidf : dict
        ``topic -> [(stem, weight), ...]``: BERTopic's c-TF-IDF of the stems (see
        :func:`class_tfidf_words`), best first, for comparison with BERTopic.
    """

    words: dict[int, list[str]] = field(default_factory=dict)
    weights: dict[int, list[float]] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)
    by_language: dict[str, dict[int, list[str]]] = field(default_factory=dict)
    language_weights: dict[str, dict[int, list[float]]] = field(default_factory=dict)
    ctfidf: dict[int, list[tuple[str, float]]] = field(default_factory=dict)


def score_words(
    counts: sp.spmatrix,
    topics: np.ndarray,
    *,
    min_df: int = 2,
    min_share: float = 0.02,
    coverage: float = 1.0,
    method: str = "kl",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Weight of every word (or stem) in every topic.

    Parameters
    ----------
    counts : scipy.sparse matrix, shape (n, V)
        Occurrences of each word in each paragraph (only presence is used).
    topics : numpy.ndarray of int, shape (n,)
        Topic of each paragraph (-1 = outlier, scored like any topic).
    min_df : int, default 2
        A stem must occur in at least this many of the topic's paragraphs ...
    min_share : float, default 0.02
        ... and in at least this share of them; otherwise its weight is 0.
    method : {"kl", "ctfidf"}, default "kl"
        ``kl``: :math:`p_c \\log(p_c / p)` on paragraph frequencies (see the module
        docstring); ``ctfidf``: BERTopic's c-TF-IDF on paragraph frequencies, for comparison.

    Returns
    -------
    keys : numpy.ndarray of int, shape (K,)
        The topics, sorted.
    weights : numpy.ndarray, shape (K, V)
        Weight of each word in each topic (0 where it does not occur).

    Examples
    --------
    >>> x = sp.csr_matrix(np.array([[1, 1], [1, 0], [0, 1], [0, 1]]))
    >>> keys, w = score_words(x, np.array([0, 0, 1, 1]), min_df=1)
    >>> keys.tolist(), (w[0] > w[1]).tolist()
    ([0, 1], [True, False])
    """
    keys, df_c, n_c = _topic_df(counts, topics)
    df = df_c.sum(axis=0, keepdims=True)
    n = max(len(topics), 1)
    floor = np.maximum(min_df, np.ceil(min_share * n_c))
    if method == "kl":
        p_c = df_c / np.maximum(n_c, 1)
        p = (df + 1.0) / (n + 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = np.where(df_c > 0, np.log(p_c / p), 0.0)
        # Coverage alone orders the stems without lift (a corpus of one topic).
        weights = p_c**coverage * (np.maximum(lift, 0.0) + NO_LIFT)
    elif method == "ctfidf":
        tf = df_c / np.maximum(df_c.sum(axis=1, keepdims=True), 1)
        avg = df_c.sum() / max(len(keys), 1)
        weights = tf * np.log(1.0 + avg / np.maximum(df, 1))
    else:
        raise ValueError(f"method must be 'kl' or 'ctfidf', not {method!r}")
    # Below the floor: kept, but ranked after every word above it (fills short lists).
    weights = np.where(df_c >= floor, weights, weights * BELOW_FLOOR)
    return keys, weights


def class_tfidf_words(
    counts: sp.spmatrix, topics: Sequence[int], vocab: Sequence[str], n: int = 30
) -> dict[int, list[tuple[str, float]]]:
    """BERTopic's c-TF-IDF words of every topic, from paragraph × term counts.

    The computation of ``BERTopic(ctfidf_model=ClassTfidfTransformer(
    reduce_frequent_words=True))`` with ``CountVectorizer(analyzer=make_analyzer(...))``:
    the counts are summed per topic (BERTopic joins each topic's paragraphs and counts the
    joined text, which gives the same sums), each topic's row is L1-normalised, square-rooted
    and multiplied by ``log(1 + A / f)``, ``A`` the integer mean of the topics' token totals
    and ``f`` the word's count in the corpus. Computed here from the counts the topic words
    already hold, so a run neither tokenises its corpus twice nor imports BERTopic (a test
    checks the weights against BERTopic's own transformer).

    Parameters
    ----------
    counts : scipy.sparse matrix, shape (n_paragraphs, V)
        Token counts per paragraph (not just presence).
    topics : sequence of int
        Topic of each paragraph (-1 = outliers, a topic like any other, as in BERTopic).
    vocab : sequence of str, length V
        The terms of the columns.
    n : int, default 30
        Words kept per topic: those with a positive weight, best first (ties: column order).

    Returns
    -------
    dict
        ``topic -> [(term, weight), ...]``.

    Examples
    --------
    >>> x = sp.csr_matrix(np.array([[2, 0, 1], [1, 0, 1], [0, 3, 1]]))
    >>> words = class_tfidf_words(x, [0, 0, 1], ["мектеп", "футбол", "жыл"], n=2)
    >>> [w for w, _ in words[0]], [w for w, _ in words[1]]
    (['мектеп', 'жыл'], ['футбол', 'жыл'])
    """
    keys, member = _membership(np.asarray(topics, dtype=int))
    per_topic = np.asarray((member @ sp.csr_matrix(counts, dtype=np.float64)).todense())
    totals = per_topic.sum(axis=1, keepdims=True)
    freq = per_topic.sum(axis=0)
    idf = np.log(int(totals.mean()) / np.maximum(freq, 1e-300) + 1.0) if len(keys) else freq
    weights = np.sqrt(per_topic / np.maximum(totals, 1e-300)) * idf[None, :]
    out: dict[int, list[tuple[str, float]]] = {}
    for row, k in enumerate(keys):
        w = weights[row]
        order = np.lexsort((np.arange(len(w)), -w))[:n]
        out[int(k)] = [(str(vocab[j]), float(w[j])) for j in order if w[j] > 0]
    return out


def _membership(labels: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
    """The distinct labels (sorted) and the (K, n) 0/1 matrix of which row has which label:
    ``member @ X`` sums the rows of ``X`` per label.
    """
    keys, inverse = np.unique(labels, return_inverse=True)
    n = len(labels)
    member = sp.csr_matrix((np.ones(n), (inverse.ravel(), np.arange(n))), shape=(len(keys), n))
    return keys, member


def _topic_df(counts: sp.spmatrix, topics) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Topics (sorted), paragraphs of each topic with each word (K, V), topic sizes (K, 1)."""
    keys, member = _membership(np.asarray(topics, dtype=int))
    binary = sp.csr_matrix(counts, dtype=np.float64)
    binary.data[:] = 1.0
    df_c = np.asarray((member @ binary).todense())
    return keys, df_c, np.asarray(member.sum(axis=1)).ravel()[:, None]


def _informative(counts: sp.spmatrix, topics, min_df: int, min_share: float) -> np.ndarray:
    """(K, V) bool: the word is above the topic's frequency floor and has lift in it."""
    _, df_c, n_c = _topic_df(counts, topics)
    floor = np.maximum(min_df, np.ceil(min_share * n_c))
    share = df_c.sum(axis=0, keepdims=True) / max(len(topics), 1)
    return (df_c >= floor) & (df_c / np.maximum(n_c, 1) > share)


def _chunk_tokens(texts: Sequence[str], analyzer) -> tuple:
    """Kept tokens of a chunk of texts: its vocabulary (first-seen order), its text × form
    counts (columns in that order) and the stem of each form.
    """
    vocab: dict[str, int] = {}
    stem_of: dict[str, str] = {}
    rows, cols = [], []
    for i, text in enumerate(texts):
        for tok, s in analyzer.pairs(text):
            stem_of[tok] = s
            rows.append(i)
            cols.append(vocab.setdefault(tok, len(vocab)))
    x = sp.csr_matrix(
        (np.ones(len(rows)), (np.asarray(rows, dtype=np.int32), np.asarray(cols, dtype=np.int32))),
        shape=(len(texts), len(vocab)),
        dtype=np.float64,
    )
    x.sum_duplicates()
    return list(vocab), x, stem_of


def _token_counts(
    texts: Sequence[str], analyzer
) -> tuple[sp.csr_matrix, list[str], dict[str, str]]:
    """Paragraph × word-form counts, the forms (alphabetical) and the stem of each form.

    A large corpus is tokenised chunk by chunk in worker processes
    (:func:`topics._rows.text_chunks`). The columns are in alphabetical order and the matrix
    is canonical (indices sorted), so it depends neither on the chunks nor (for ties) on the
    order of the texts.
    """
    parts = text_chunks(_chunk_tokens, texts, analyzer)
    names = sorted(set().union(*(p[0] for p in parts)))
    column = {t: j for j, t in enumerate(names)}
    stem_of: dict[str, str] = {}
    blocks = []
    for vocab, x, stems in parts:
        rank = np.asarray([column[t] for t in vocab], dtype=np.int32)
        blocks.append(
            sp.csr_matrix((x.data, rank[x.indices], x.indptr), shape=(x.shape[0], len(names)))
        )
        stem_of.update(stems)
    del parts
    x = blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")
    x.sort_indices()
    return x, names, stem_of


def _candidates(
    weights: np.ndarray, vocab: Sequence[str], stem_of: Mapping[str, str], m: int
) -> list[int]:
    """Columns of the ``m`` best forms of one topic, one per stem (and per 6-letter beginning)."""
    order = np.lexsort((np.arange(len(vocab)), -weights))  # ties: alphabetical
    chosen: list[int] = []
    seen: set[str] = set()
    for j in order:
        if weights[j] <= 0 or len(chosen) == m:
            break
        word = vocab[j]
        keys = {"stem:" + stem_of.get(word, word), "pre:" + word[:6]}
        if keys & seen:
            continue
        seen |= keys
        chosen.append(int(j))
    return chosen


def _npmi_matrix(units: sp.csc_matrix, cols: Sequence[int]) -> np.ndarray:
    """NPMI of every pair of ``cols`` over the rows of a binary ``units`` matrix.

    A pair that never shares a unit scores -1 (as in the OCTIS/gensim coherence).
    """
    sub = units[:, list(cols)]
    co = np.asarray((sub.T @ sub).todense(), dtype=np.float64)
    n = max(units.shape[0], 1)
    p_a = np.diag(co) / n
    p_ab = co / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(p_ab / np.outer(p_a, p_a))
        out = pmi / -np.log(p_ab)
    out[p_ab >= 1.0] = 1.0
    out[co == 0] = -1.0
    return out


def _coherent_order(rel: np.ndarray, npmi: np.ndarray, n: int, strength: float) -> list[int]:
    """Greedy choice of ``n`` of the candidates: relevance plus coherence with those chosen.

    Candidate ``i`` (by decreasing ``rel``, ``rel[0] = 1``) is scored
    ``rel[i] + strength * mean(npmi[i, chosen])``; the first is always the most relevant.
    Returns the chosen positions, in the order chosen.
    """
    chosen = [0]
    rest = list(range(1, len(rel)))
    while rest and len(chosen) < n:
        gain = rel[rest] + strength * npmi[np.ix_(rest, chosen)].mean(axis=1)
        chosen.append(rest.pop(int(np.argmax(gain))))  # first maximum: the more relevant
    return chosen


def _ranked_words(
    keys: np.ndarray,
    weights: np.ndarray,
    vocab: Sequence[str],
    stem_of: Mapping[str, str],
    n: int,
    units: sp.csc_matrix | None = None,
    coherence: float = 0.0,
    pool: int = 5,
    eligible: np.ndarray | None = None,
) -> tuple[dict[int, list[str]], dict[int, list[float]]]:
    """Top ``n`` forms of each topic, one per stem (and per 6-letter beginning).

    With ``coherence > 0`` and ``units`` (binary units × forms), the ``pool * n`` best forms
    are re-ranked by :func:`_coherent_order`, relevance being the weight relative to the
    best form's; only forms that are ``eligible`` (K, V) and in two units or more take part,
    the others follow in their order.
    """
    words: dict[int, list[str]] = {}
    out_w: dict[int, list[float]] = {}
    for row, k in enumerate(keys):
        w = weights[row]
        if coherence <= 0 or units is None:
            cols = _candidates(w, vocab, stem_of, n)
        else:
            cols = _candidates(w, vocab, stem_of, max(n * pool, n))
            # A pair of words seen once, in the same unit, has the highest NPMI of all; a word
            # without lift co-occurs with everything: neither is re-ranked.
            df = np.asarray(units[:, cols].sum(axis=0)).ravel() if cols else np.zeros(0)
            good = np.ones(len(vocab), bool) if eligible is None else eligible[row]
            ok = [i for i, j in enumerate(cols) if good[j] and df[i] >= 2]
            if len(ok) > 1 and ok[0] == 0:  # (a best word in one document: a one-story topic)
                sub = [cols[i] for i in ok]
                pos = _coherent_order(w[sub] / w[sub[0]], _npmi_matrix(units, sub), n, coherence)
                head = [sub[i] for i in pos]
                cols = head + [j for j in cols if j not in head]
            cols = cols[:n]
        words[int(k)] = [vocab[j] for j in cols]
        out_w[int(k)] = [float(f"{w[j]:.4g}") for j in cols]
    return words, out_w


def _group_codes(values: Sequence[object]) -> np.ndarray:
    """Integer code of each value (equal values, equal codes)."""
    _, codes = np.unique(np.asarray([str(v) for v in values], dtype=object), return_inverse=True)
    return codes.astype(np.int64)


def _units(counts: sp.csr_matrix, groups: np.ndarray | None) -> sp.csc_matrix:
    """Binary units × forms: the paragraphs, or their groups (documents) when given."""
    if groups is not None:
        counts = _membership(groups)[1] @ counts
    out = sp.csc_matrix(counts, dtype=np.float64, copy=True)
    out.data[:] = 1.0
    return out


def _chunk_case(texts: Sequence[str], wanted: set[str]) -> tuple[Counter, Counter]:
    """Of each wanted word in a chunk of texts: its mid-sentence occurrences capitalised, and
    all of them.
    """
    from topics.words import _TOKEN as token

    upper: Counter = Counter()
    total: Counter = Counter()
    for text in texts:
        for m in token.finditer(text):
            tok = m.group(0)
            low = tok.lower()
            if low not in wanted:
                continue
            i = m.start() - 1
            while i >= 0 and text[i].isspace():
                i -= 1
            if i < 0 or text[i] in '.!?:;"«»—–-(':
                continue  # sentence start: capitalisation says nothing
            total[low] += 1
            upper[low] += tok[0].isupper()
    return upper, total


def _display_forms(texts: Sequence[str], wanted: set[str]) -> dict[str, str]:
    """Capitalised form of each wanted word that the text capitalises mid-sentence."""
    upper: Counter = Counter()
    total: Counter = Counter()
    for u, t in text_chunks(_chunk_case, texts, wanted):
        upper.update(u)
        total.update(t)
    return {w: w[0].upper() + w[1:] for w in wanted if total[w] >= 2 and upper[w] > total[w] / 2}


def topic_words(
    texts: Sequence[str],
    topics: Sequence[int],
    languages: Sequence[str],
    *,
    n: int = 10,
    min_df: int = 2,
    min_share: float = 0.04,
    coverage: float = 1.5,
    form_weight: float = 0.75,
    method: str = "kl",
    groups: Sequence[object] | None = None,
    coherence: float = 2.0,
    pool: int = 5,
) -> TopicWords:
    """Top words of every topic (and of every language within it).

    Parameters
    ----------
    texts : sequence of str, length n
        Paragraph texts.
    topics : sequence of int, length n
        Topic of each paragraph (-1 = outlier).
    languages : sequence of str, length n
        Language of each paragraph; the stop words and stemmers of these languages are used.
    n : int, default 10
        Words per topic.
    min_df, min_share, coverage, method
        See :func:`score_words`.
    form_weight : float, default 0.75
        A word form's weight is ``w(form) ** form_weight * w(stem) ** (1 - form_weight)``:
        the stem's weight (all its forms together) says what the topic is about, the form's
        own weight how often a reader meets that exact form.
    groups : sequence, length n, optional
        Document (article) of each paragraph. Co-occurrence for ``coherence`` is counted in
        documents when there are at least :data:`MIN_GROUPS` of them, else in paragraphs.
    coherence : float, default 2.0
        Strength of the re-ranking for coherence (0 = rank by weight alone): of the
        ``pool * n`` best forms, the list is built greedily, each next form maximising
        ``w / w_best + coherence * mean NPMI with the forms already chosen``, NPMI being
        counted over the corpus's documents (or paragraphs). Forms below the frequency
        floor or in a single document are not re-ranked; they follow the others.
    pool : int, default 5
        Candidates per word of the list, for ``coherence``.

    Returns
    -------
    TopicWords

    Examples
    --------
    >>> texts = ["мектептерде мугалимдер иштейт", "мугалимдер мектепте", "футбол оюну",
    ...          "футбол командасы", "мектеп жана мугалим"]
    >>> tw = topic_words(texts, [0, 0, 1, 1, 0], ["ky"] * 5, n=2)
    >>> tw.words[0], tw.words[1]
    (['мугалимдер', 'мектеп'], ['футбол', 'командасы'])

    This function is long because its docstring documents every parameter and the ranking rules; the
    code is about 60 lines.
    """
    from topics import words as _words

    texts = list(texts)
    topics_arr = np.asarray(topics, dtype=int)
    langs = np.asarray(languages, dtype=object)
    analyzer = _words.make_analyzer(sorted(set(langs.tolist())))
    counts, vocab, stem_of = _token_counts(texts, analyzer)
    opts = {"min_df": min_df, "min_share": min_share, "coverage": coverage, "method": method}
    form_opts = {**opts, "min_df": 1, "min_share": 0.0}
    out = TopicWords()
    if counts.shape[1] == 0:
        out.words = {int(k): [] for k in np.unique(topics_arr)}
        out.weights = {k: [] for k in out.words}
        return out
    stems = sorted(set(stem_of.values()))
    col = {st: j for j, st in enumerate(stems)}
    stem_idx = np.array([col[stem_of[t]] for t in vocab])
    to_stem = sp.csr_matrix(
        (np.ones(len(vocab)), (np.arange(len(vocab)), stem_idx)), shape=(len(vocab), len(stems))
    )

    group_arr = None
    if groups is not None:
        group_arr = _group_codes(groups)
        if group_arr.max(initial=-1) + 1 < MIN_GROUPS:
            group_arr = None  # too few documents to tell words apart: paragraphs instead

    def ranked(rows: np.ndarray) -> tuple[dict[int, list[str]], dict[int, list[float]]]:
        # The frequency floor is the stem's: a form's own weight already reflects its coverage.
        keys, w_form = score_words(counts[rows], topics_arr[rows], **form_opts)
        _, w_stem = score_words(counts[rows] @ to_stem, topics_arr[rows], **opts)
        weights = w_form**form_weight * w_stem[:, stem_idx] ** (1.0 - form_weight)
        units = eligible = None
        if coherence > 0:
            units = _units(counts[rows], None if group_arr is None else group_arr[rows])
            good = _informative(counts[rows] @ to_stem, topics_arr[rows], min_df, min_share)
            eligible = good[:, stem_idx]
        return _ranked_words(keys, weights, vocab, stem_of, n, units, coherence, pool, eligible)

    out.words, out.weights = ranked(np.arange(len(texts)))
    out.ctfidf = class_tfidf_words(counts @ to_stem, topics_arr, stems, max(3 * n, 30))
    for lang in sorted(set(langs.tolist())):
        mask = langs == lang
        if mask.sum() < 5 or lang in ("other", "und"):
            continue
        out.by_language[str(lang)], out.language_weights[str(lang)] = ranked(np.flatnonzero(mask))
    shown = {w for k, ws in out.words.items() if k >= 0 for w in ws[:4]}
    out.display = _display_forms(texts, shown)
    return out


def topic_labels(
    words: Mapping[int, Sequence[str]],
    names: Mapping[int, str] | None = None,
    *,
    n_words: int = 3,
    display: Mapping[str, str] | None = None,
) -> dict[int, str]:
    """A short, unique, human label for every topic.

    Parameters
    ----------
    words : mapping
        ``topic -> words``, best first (e.g. :attr:`TopicWords.words`).
    names : mapping, optional
        ``topic -> theme name`` for topics that match a codebook theme; these keep the name.
    n_words : int, default 3
        Words in a label made from words; more are added when two labels would coincide.
    display : mapping, optional
        ``word -> display form`` (:attr:`TopicWords.display`).

    Returns
    -------
    dict
        ``topic -> label``: ``"outliers"`` for -1, the theme name, or the first words joined
        by :data:`LABEL_SEPARATOR`; a topic without words is ``"topic <id>"``. Labels are
        unique: a clash gets more words, then `` (2)``, `` (3)``.

    Examples
    --------
    >>> topic_labels({-1: ["a"], 0: ["мугалимдер", "консорциум", "тажикстан", "иш"],
    ...               1: ["окуу"]}, {1: "distance learning"}, display={"тажикстан": "Тажикстан"})
    {-1: 'outliers', 0: 'мугалимдер · консорциум · Тажикстан', 1: 'distance learning'}
    """
    names = dict(names or {})
    display = dict(display or {})
    out: dict[int, str] = {}
    used: set[str] = set()
    # Theme names first (they are fixed), then word labels by topic id.
    order = [k for k in sorted(words) if k in names] + [k for k in sorted(words) if k not in names]
    order += [k for k in sorted(names) if k not in words]
    for k in order:
        if k < 0:
            out[k] = "outliers"
            continue
        ws = [display.get(w, w) for w in words.get(k, [])]
        if k in names:
            candidates = [names[k]]
        elif ws:
            candidates = [
                LABEL_SEPARATOR.join(ws[:m]) for m in range(min(n_words, len(ws)), len(ws) + 1)
            ]
        else:
            candidates = [f"topic {k}"]
        label = next((c for c in candidates if c not in used), None)
        rank = 2
        while label is None:
            if (numbered := f"{candidates[0]} ({rank})") not in used:
                label = numbered
            rank += 1
        used.add(label)
        out[k] = label
    return {k: out[k] for k in sorted(out)}


def with_theme_names(labels: Mapping[int, str], names: Mapping[int, str]) -> dict[int, str]:
    """Replace the labels of theme-matched topics by the theme names, keeping labels unique.

    Parameters
    ----------
    labels : mapping
        ``topic -> label`` (e.g. from :func:`topic_labels`).
    names : mapping
        ``topic -> theme name`` (:func:`topics.themes.name_topics`), unique among themselves.

    Returns
    -------
    dict
        ``topic -> label``; a word label that equals a theme name gets `` (2)``, `` (3)``.

    Examples
    --------
    >>> with_theme_names({0: "a · b · c", 1: "x"}, {1: "a · b · c"})
    {0: 'a · b · c (2)', 1: 'a · b · c'}
    """
    out = {int(k): str(v) for k, v in labels.items()}
    out.update({int(k): str(v) for k, v in names.items()})
    used = {out[k] for k in names}
    for k in sorted(out):
        if k in names:
            continue
        label, rank = out[k], 2
        while label in used:
            label, rank = f"{out[k]} ({rank})", rank + 1
        out[k] = label
        used.add(label)
    return out
