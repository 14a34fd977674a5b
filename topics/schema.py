"""The columns of every table a run hands from one stage to the next, named once.

Stages build their tables with these names and read them back by these names; no stage
joins values into a string that another stage splits again. Each table has one constant:

========================  =================================================================
constant                  table (file in a run folder)
========================  =================================================================
:data:`SEGMENT_COLUMNS`   ``segments.csv`` from ingest (document metadata columns follow)
:data:`MODEL_COLUMNS`     the columns ``topics run`` adds to ``segments.csv``
:data:`TOPIC_COLUMNS`     ``topics.csv`` (``words_<language>`` columns follow)
:data:`TOPIC_WORD_COLUMNS``topic_words.csv``: every topic's ranked words with their weights
:data:`THEME_COLUMNS`     ``themes.csv``
:data:`PREVALENCE_COLUMNS`  ``prevalence.csv``
:data:`DIFFERENCE_COLUMNS`  ``differences.csv``
========================  =================================================================

Interval levels (:data:`LEVELS`) are the values of the ``level`` column of the comparison
tables: whether an interval treats documents (``document``) or paragraphs (``paragraph``)
as the unit, or there is none (``none``).
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "SEGMENT_COLUMNS",
    "MODEL_COLUMNS",
    "TOPIC_COLUMNS",
    "TOPIC_WORD_COLUMNS",
    "THEME_COLUMNS",
    "PREVALENCE_COLUMNS",
    "DIFFERENCE_COLUMNS",
    "ALL_LANGUAGES",
    "LEVELS",
    "Level",
]

#: One row per segment (paragraph), in document order.
SEGMENT_COLUMNS = [
    "doc_id",
    "segment_id",
    "article",
    "section",
    "language",
    "text",
    "start",
    "end",
    "n_chars",
    "file",
]
#: Added to the segments by the model stage (empty for segments not modelled).
MODEL_COLUMNS = ["topic", "x", "y", "theme", "theme_score", "topic_label"]
#: One row per topic (-1 = outliers); ``theme`` is the codebook theme a topic is named after.
TOPIC_COLUMNS = [
    "topic",
    "label",
    "words",
    "word_weights",
    "size",
    "share",
    "languages",
    "main_language",
    "stability",
    "representative",
    "representative_idx",
]
#: Long table of topic words: ``language`` is :data:`ALL_LANGUAGES` for the ranking over all
#: paragraphs, else the language whose paragraphs alone were ranked; ``rank`` starts at 1.
TOPIC_WORD_COLUMNS = ["topic", "language", "rank", "word", "weight"]
ALL_LANGUAGES = "all"
#: One row per codebook theme; ``topics`` lists the ids of the topics named after it.
THEME_COLUMNS = ["theme", "description", "keywords", "n_segments", "topics"]
PREVALENCE_COLUMNS = (
    "by group kind topic theme label share ci_low ci_high method level n_segments n_docs "
    "seg_ci_low seg_ci_high"
).split()
DIFFERENCE_COLUMNS = (
    "by group_a group_b kind topic theme label share_a share_b diff ci_low ci_high method "
    "level p_value q_value n_docs_a n_docs_b"
).split()

Level = Literal["document", "paragraph", "none"]
LEVELS: tuple[str, ...] = ("document", "paragraph", "none")
