"""The built-in cue tables of the ten task types, indexed as one
:class:`~ragged_graph.routing.cues.CueIndex`.

Each task's cues are words, phrases and (for code and arithmetic) guarded regular
expressions with weights; see :mod:`~ragged_graph.routing.classifier` for how their scores
decide a task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ragged_graph.routing.cues import ANY_DIGIT, Cue, CueIndex
from ragged_graph.routing.task_types import TaskType

__all__ = ["BUILTIN_TASK_CUES", "TASK_CUES", "TASK_ORDER"]


def _one_of(words: str) -> str:
    """Space-separated words as the alternatives of one phrase position (``a/b/c``)."""
    return "/".join(words.split())


_LANGS_CLEAR: Final = _one_of(
    "javascript typescript golang kotlin sql html css react vue angular django flask "
    "fastapi pandas numpy nodejs cuda bash powershell haskell scala php matlab dockerfile "
    "docker kubernetes terraform jquery regex js ts"
)
_LANGS_AMBIGUOUS: Final = _one_of("python java ruby rust go c swift perl shell r lua dart elixir")
_CODE_NOUNS: Final = (
    _one_of(
        "function functions method methods class classes script program module component "
        "endpoint api cli kernel regex test tests dockerfile makefile algorithm parser "
        "interpreter tokenizer compiler library decorator hook struct trait interface "
        "snippet macro service cache queue heap engine code daemon plugin server handler "
        "lambda generator iterator app webapp quicksort mergesort hashmap btree oneliner"
    )
    + " | unit test/tests | one liner | linked list | hash map | b tree | binary tree/search"
    " | bubble/merge sort | crud/web app"
)
_HUMAN_LANGS: Final = _one_of(
    "english spanish french german italian portuguese dutch japanese chinese mandarin "
    "cantonese korean russian arabic polish swedish norwegian danish finnish turkish hindi "
    "greek latin hebrew ukrainian czech vietnamese thai indonesian englisch englische "
    "deutsch deutsche französisch französische spanisch spanische anglais allemand espagnol "
    "français italien inglés ingles alemán francés español italiano portugués japonés chino"
)
_LANG_ADJECTIVES: Final = _one_of(
    "plain simple formal proper idiomatic natural modern british american brazilian european"
)
_GIVEN_TEXT: Final = _one_of(
    "sentence text paragraph email message address invoice receipt contract clause review "
    "signature passage note notes transcript tweets reviews form document ad advert post "
    "report article chat conversation log logs page letter resume cv bill statement tweet "
    "comment comments ticket excerpt"
)
_ENTITIES: Final = _one_of(
    "people persons names dates emails email entities amounts amount numbers companies "
    "organisations organizations locations places products urls links deadlines mentions "
    "the"
    " phone address addresses prices keywords hashtags ids"
)
_HOWTO_VERBS: Final = _one_of(
    "install download setup update upgrade uninstall reset boil cook clean enable disable "
    "change cancel delete remove find use unblock restart"
)
_RAG_SOURCES: Final = "context/document/documents/passage/passages/source/sources"
# Things to write that are not code: met between "write" and a code noun, they are the object
# ("write a launch email for our new app", "create a one-shot hook for a game night").
_PROSE_ARTEFACTS: Final = (
    "email emails letter letters story stories poem poems post posts essay speech song "
    "description bio announcement newsletter tweet ad advert caption review summary report "
    "proposal pitch blurb toast invitation message hook shot campaign adventure scene"
)

BUILTIN_TASK_CUES: Final[Mapping[str, tuple[Cue, ...]]] = {
    TaskType.CODE_GENERATION: (
        Cue.near(
            "write/writ/create/make/generate/implement/build/code/give/add",
            _CODE_NOUNS,
            2.5,
            within=7,
            unless=_PROSE_ARTEFACTS,
        ),
        Cue.words("implement/refactor/debug/compile/deploy | code up", 1.2),
        Cue.near(
            "fix/debug/refactor/optimise/optimize/review/port/rewrite/convert/translate"
            " | speed up | clean up",
            "code/function/script/class/program/loop/query/regex/handler/module/snippet/bug/"
            "error/method",
            2.0,
            within=5,
        ),
        Cue.words(
            "my/this/our/some/example/sample code/script/function/program/snippet/regex/"
            "traceback/handler/codebase/repo | the code/script/snippet/codebase/traceback"
            " | the following code/script/function/snippet/program | stack trace",
            2.0,
        ),
        Cue.words(
            "what this/that code/regex/function/script/snippet/query/line/expression does"
            " | what the following code/regex/function/script/snippet does"
            " | explain this/my code/regex/function/script/snippet/query/error"
            " | explain the following code/regex/function/script/snippet",
            2.0,
        ),
        Cue.near(
            "how do i | how to | how can i | how do you | how would i",
            f"in/with/using {_LANGS_CLEAR}/{_LANGS_AMBIGUOUS}",
            2.5,
            within=8,
        ),
        # Naming a language is one piece of evidence, and a weak one: "what is the GIL in
        # python" is a question about a language, not a request for code.
        Cue.words(f"in/with/using/to/from {_LANGS_CLEAR}/{_LANGS_AMBIGUOUS}", 1.2, key="named"),
        Cue.words(_LANGS_CLEAR, 1.2, key="named"),
        Cue.substrings(
            ("c++", "c#", "node.js", ".net", "===", "!==", "->", "::"), 1.2, key="language"
        ),
        Cue.words(_LANGS_AMBIGUOUS, 0.6, key="named"),
        Cue.words(
            "oneliner/segfault/keyerror/typeerror/valueerror/indexerror/attributeerror/"
            "nullpointerexception | sql query | one liner | list comprehension"
            " | syntax/compile/runtime error | null pointer | undefined is not",
            1.5,
        ),
        Cue.words(
            "array/variable/variables/loop/recursion/pointer/pointers/exception/bug/pytest/jest/"
            "git/commit/async/await/mutex/atomic/atomics/bytecode/vm/compiler/div/flexbox/"
            "command/terminal/refactor/orm/dataclass*/dict/dicts/dictionary/tuple/tuples/"
            "substring/enum/boolean/stdin/stdout/stderr/argv/cron/crontab/ssh/sudo/chmod/grep/"
            "awk/curl/npm/pip/venv/conda/linux/unix/localhost/stash/rebase/yaml/json/nullptr"
            " | environment variable | env var | type hint/hints | unit test/tests"
            " | merge conflict | thread safe | race condition/conditions"
            " | deadlock/deadlocks | garbage collect* | api endpoint | json schema",
            1.0,
        ),
        Cue.words("select/join/rows/row/columns/column/schema | group by", 0.4),
        Cue.substrings(("函数", "代码", "程序", "脚本", "関数", "コード", "プログラム"), 2.5),
        Cue.words("funktion/fonction/función/funcion/klasse/skript/programm/código/codigo", 1.5),
        # Code itself, wherever it is pasted.
        Cue.substrings(("```",), 2.0, anywhere=True),
        Cue.regex(
            r"\b(?:def|func|fn|function) \w+\s*\(|\bclass \w+\s*[:({]",
            2.0,
            guard=("def ", "func ", "fn ", "function ", "class "),
            anywhere=True,
            key="definition",
        ),
        Cue.substrings(("#include", "public static"), 2.0, anywhere=True, key="definition"),
        Cue.regex(r"\breturn\b[^\n]{0,40}$", 1.0, guard=("return",), anywhere=True, key="line"),
        Cue.regex(r"[;{}][ \t]*$", 1.0, guard=(";", "{", "}"), anywhere=True, key="line"),
        Cue.regex(
            r"^[ \t]*(?:import \w+|from [\w.]{1,60} import\b)",
            1.0,
            guard=("import",),
            anywhere=True,
            key="line",
        ),
        Cue.substrings(
            ("print(", "console.log(", "printf(", "self.", "=>"), 1.0, anywhere=True, key="line"
        ),
        Cue.regex(r"\w\.\w{1,40}\([^)\n]{0,80}\)", 1.0, guard=("(",), anywhere=True, key="line"),
        Cue.regex(
            r"\b(?:for|while) [^\n]{1,30}:[ \t]*$|\bwhile \w+ *[<>]",
            1.0,
            guard=("for ", "while "),
            anywhere=True,
            key="line",
        ),
        Cue.regex(r"`[^`\n]{1,80}`", 1.0, guard=("`",), anywhere=True),
    ),
    TaskType.MATH: (
        # Every alternative opens with a digit (the fraction's lookbehind follows its first
        # digit), so the regex engine skips from digit to digit rather than trying each place.
        Cue.regex(
            r"\d\s*[+*×÷^x]\s*\(?-?\d|\d\s+-\s+\d"
            r"|\d(?<![\d/.]\d)\d{0,11}\s*/\s*\d{1,12}(?![\d/.])",
            2.0,
            guard=(ANY_DIGIT,),
        ),
        Cue.regex(r"\d\s*%[^.?!\n]{0,15}?\$?\d", 2.0, guard=("%",), key="percent"),
        Cue.regex(
            r"\d\s*%\s*(?:(?:annual|monthly|yearly|simple|compound|flat|sales)\s+)?(?:off|discount|tip|tax|interest|increase|decrease|raise|markup"
            r"|apr|apy|of)\b",
            2.0,
            guard=("%",),
            key="percent",
        ),
        Cue.regex(
            r"\b(?:square|cube|factorial|reciprocal|inverse) of -?\d",
            2.0,
            guard=("square of", "cube of", "factorial of", "reciprocal of", "inverse of"),
        ),
        Cue.regex(
            r"\d\s*(?:fois|mal|veces|times|multiplied by|divided by|plus|minus|over)\s*\d",
            2.0,
            guard=(ANY_DIGIT,),
        ),
        Cue.regex(r"[a-z0-9)]\s*\^\s*[a-z0-9(]", 1.8, guard=("^",), key="algebra"),
        Cue.regex(
            r"\b\d{0,12}[a-z]\s*[-+=]\s*\d{1,12}\s*=|\b[xyz]\s*=\s*-?\d",
            1.8,
            guard=("=",),
            key="algebra",
        ),
        Cue.substrings(("y''",), 1.8, key="algebra"),
        Cue.words(
            "prove/proof/proves/equation/equations/integral/integrate/derivative/differentiate/"
            "eigen*/probability/sqrt/factorial/quadratic/polynomial/polynomials/variance/"
            "compounded/converge/converges/diverge/diverges/induction/irrational/prime/primes/"
            "abelian/arithmetic/logarithm/modulo/combinatorics/permutation/permutations/lemma/"
            "interval"
            " | solve for | square root | differential equation | standard deviation"
            " | how many ways | prime number/numbers | group of order"
            " | generating function/functions | expected number/value | times as many/much"
            " | real solution/solutions | harmonic series",
            2.0,
        ),
        Cue.words(
            "calculat*/compute/solve/derive/theorem/percent*/average/median/ratio/matrix/"
            "triangle/angle/angles/geometry/mph"
            " | show that | sum of | mean of",
            1.0,
        ),
        Cue.regex(r"\bconvert\b[^.?!\n]{0,12}\d", 1.5, guard=("convert",), key="units"),
        Cue.regex(
            r"\d(?:\.\d+)?\s*(?:miles?|km|kg|lbs?|pounds|feet|ft|meters?|cm|inches|celsius|"
            r"fahrenheit|°[cf])\b",
            1.0,
            guard=(ANY_DIGIT,),
            key="units",
        ),
        Cue.words(
            "how many seconds/minutes/hours/days/weeks/months/years/grams/ml/litres/liters/"
            "inches/feet/meters/miles",
            1.5,
        ),
        Cue.words(
            "monthly payment/payments/repayment/repayments | compound interest"
            " | how much interest | break even | annual return",
            1.5,
        ),
        Cue.words(
            "calcule/calculer/calculez/calcula/calcular/berechne*/rechne/löse/resuelve/résous/"
            "résoudre/demuestra/démontre*/beweise/gleichung/équation/ecuación/ángulo/ángulos/"
            "winkel/montrez/montrer/démontrez/déduisez/beweisen/demostrar/dimostra/dimostrare/"
            "inégalité/ungleichung/desigualdad/convexe/konvex/dérivée/ableitung/derivada/"
            "intégrale | zeige dass | zeigen sie",
            1.5,
        ),
        Cue.substrings(("证明", "方程", "计算", "積分", "証明", "計算"), 2.0),
    ),
    TaskType.REASONING: (
        Cue.words("why/warum/pourquoi/perché/porquê | por qué/que | explain why", 1.2, key="why"),
        Cue.substrings(("为什么", "なぜ", "どうして"), 1.2, key="why"),
        Cue.words("how does/do/did !i/you/we/u", 1.0),
        Cue.words(
            "how it/they/this/that work/works"
            " | how would/should you/i/we architect/design/approach/structure/decide/choose"
            " | how should i/we | explain how !to/do/can/i/you/we/u",
            1.5,
        ),
        Cue.words(
            "compare/comparison/compared/versus/vs/difference/differences/tradeoff/tradeoffs"
            " | differences/difference between | pros and cons | trade off/offs"
            " | advantages and disadvantages | better to | better than"
            " | ventajas y desventajas | vantagens e desvantagens | avantages et inconvénients"
            " | vor und nachteile | vantaggi e svantaggi"
            " | which is better/heavier/faster/more/bigger/safer | in common",
            1.5,
            key="compare",
        ),
        Cue.words(
            "analyse/analyze/analysis/assess/evaluate/critically/critique/implications/"
            "consequences/steelman/argue/argument/justify/strateg*/decide/scenario/scenarios/"
            "deduc*/riddle/puzzle/architect*"
            " | second order | reason through | think through | decision framework"
            " | plan a/an/my/our/the | should i/we | is it better/worth/wise"
            " | what would happen | outline a | design a/an/the | if all | are all",
            1.5,
        ),
        Cue.words("explain", 0.8),
        Cue.words(
            "diseña*/analiza*/estrategia/stratégie/vergleich*/analysier*/compara*/comparer"
            " | wie funktioniert/funktionieren | comment fonctionne/marche | cómo funciona"
            " | come funziona | quelle est la différence | cuál es la diferencia"
            " | was ist der unterschied | qual è la differenza | unterschied zwischen"
            " | différence entre | diferencia entre",
            1.5,
            key="compare",
        ),
        Cue.words(
            "taller/shorter/older/younger/heavier/lighter/faster/slower/bigger/smaller/richer than",
            1.5,
        ),
    ),
    TaskType.SUMMARISATION: (
        Cue.words(
            "summaris*/summariz*/tldr/gist/takeaways/condense/shorten/recap"
            " | sum up | sum it up | tl dr | key points | main points | main ideas"
            " | main takeaways | in a nutshell | boil it/this down"
            " | a/an/short/brief/executive/quick summary | one line summary",
            3.0,
        ),
        Cue.near(
            "write/produce/give/create/make/prepare/draft/synthesi*/combine/merge",
            "summary/summaries",
            3.0,
            within=6,
        ),
        # "summary" alone is often a noun in the material ("translate this discharge summary").
        Cue.words("summary/summaries", 2.0),
        Cue.words(
            "résume/résumer/résumez/résumé/zusammenfassen/zusammenfassung/fasse/resumen/resumir/"
            "resúmelo/resúmeme/riassumi/riassumere/samenvatting/samenvatten"
            " | resume este/esta/el/la/los/las",
            3.0,
        ),
        Cue.words("zusammen", 1.0),
        # The verb opening a request says what to do with the rest, whatever the rest is about.
        Cue.words("summaris*/summariz*/condense/tldr/résume/resume/resumir", 1.0, at_start=True),
        Cue.substrings(("总结", "概括", "摘要", "要約", "まとめ", "要点"), 3.0),
    ),
    TaskType.CREATIVE: (
        Cue.words(
            "poem/poems/haiku/haikus/limerick/limericks/sonnet/sonnets/villanelle/villanelles/"
            "lyrics/screenplay/fable/song/rap/ballad/ode/novel/novella/novelette/sitcom/"
            "fanfiction/memoir/parody/pastiche/satire/kurzgeschichte/vows/obituary/rpg/"
            "ttrpg | pickup line | pick up line | tabletop rpg/game/campaign | campaign setting"
            " | wedding vows"
            " | short story | bedtime story | fairy tale | stage play | three act | fan fiction",
            2.5,
        ),
        Cue.words(
            "story/stories/tale/chapter/scene/dialogue/monologue/joke/jokes/pun/puns/slogan/"
            "slogans/tagline/taglines/caption/captions/jingle/backstory/worldbuilding/episode/"
            "episodes/mystery/verse/rhyme/rhymes/character/characters/sketch/villain/villains/npc/npcs/"
            "protagonist/antagonist/quest/couplet/couplets"
            " | world building | plot twist | twist ending",
            2.0,
        ),
        Cue.words(
            "speech/toast/eulogy/essay/tweet/instagram/wedding"
            " | cover letter | birthday message/card/wish/wishes | greeting card"
            " | product description | blog post | love letter | ad copy | marketing copy",
            2.0,
        ),
        Cue.words(
            "brainstorm*/imagine | ideas for | name/names for | suggest a name | name ideas"
            " | come up with | make up | invent a",
            2.0,
        ),
        Cue.words(
            "roleplay | role play | pretend you're/to/you | act as | you are a"
            " | imagine you're/you",
            2.5,
        ),
        Cue.near(
            "rewrite/rephrase/reword/make/turn",
            "more polite/formal/casual/friendly/professional/persuasive/fun/exciting"
            " | sound more/less | politer | friendlier | funnier",
            2.5,
        ),
        Cue.words("continue this/the story/poem/tale/scene", 2.5),
        Cue.near(
            "write/draft/compose/create/craft/pen",
            "page/bio/post/description/announcement/newsletter/invitation/ad/headline/copy/"
            "pitch/toast/vows/speech/card/note/letter/tagline/blurb/intro/introduction/"
            "welcome/caption/message/greeting/email/emails",
            2.0,
            within=5,
        ),
        Cue.words("write/compose/craft", 0.5),
        Cue.words(
            "poème/poema/poesia/poesie/gedicht/gedichte/cuento/histoire/geschichte/reim/chanson/"
            "canción/lied/conte/racconto/favola/fábula/fable/märchen/filastrocca/"
            "relato/poesía",
            2.5,
        ),
        Cue.substrings(("诗", "故事", "物語", "俳句", "小説", "小说", "童話", "童话", "詩"), 2.5),
    ),
    TaskType.EXTRACTION: (
        Cue.words("extract*/extrae*/extrai*/extrahier*/extrayez", 3.0),
        Cue.words(
            "extract*/extrae*/extrai*/extrahier*/extrayez", 1.0, at_start=True, key="opening"
        ),
        Cue.words(
            "ner | pull out | parse out | named entit* | tag/label each"
            " | classify this/these/each/it | classify the following"
            " | categori* this/these/each | identify the/all/every"
            " | which/what language is",
            2.5,
            key="pull",
        ),
        Cue.near("get", "out of", 2.5, within=5, key="pull"),
        Cue.near("list", _ENTITIES, 2.5, within=2, key="pull"),
        Cue.near("find all/every", _ENTITIES, 2.5, within=1, key="pull"),
        Cue.near(
            "find/get/grab/spot",
            "email address/addresses | phone number/numbers | url/urls | date/dates"
            " | name/names | order number | postcode/zip | iban",
            2.5,
            within=2,
            key="pull",
        ),
        Cue.words(
            f"is this/that {_GIVEN_TEXT} | is the following {_GIVEN_TEXT}"
            " | positive or negative | spam or not",
            2.5,
        ),
        Cue.words("sentiment/entities/mentioned", 1.5),
        Cue.words(
            f"in/on/from/of this/these/the {_GIVEN_TEXT}"
            f" | in/on/from/of the following/attached {_GIVEN_TEXT}",
            1.5,
            key="given",
        ),
        Cue.words(f"this/these {_GIVEN_TEXT}", 1.5, key="given"),
        Cue.words(
            "fields | as/into/to/in json/csv/table/spreadsheet/yaml"
            " | as/into/to/in a json/csv/table/spreadsheet | json object/with",
            1.0,
        ),
        Cue.near(
            "convert/turn/put/parse/format/structure/organise/organize",
            "to/into csv/json/table/spreadsheet/yaml | to/into a csv/json/table/spreadsheet",
            2.5,
            within=4,
        ),
        Cue.words("clasifica/clasifique/classifie*/klassifizier*/classifica", 2.5, key="pull"),
        Cue.substrings(("提取", "抽出", "抽取"), 3.0),
    ),
    TaskType.TRANSLATION: (
        Cue.words(
            "translat*/tradu*/übersetz*/ubersetz*/vertaal*/localis*/localiz*", 3.0, key="translate"
        ),
        Cue.substrings(("翻译", "翻譯", "翻訳", "訳して", "번역"), 3.0, key="translate"),
        Cue.words("translat*/tradu*/übersetz*/vertaal*", 1.0, at_start=True, key="opening"),
        Cue.words(
            "how do/would/can/should you/i/we/u say | wie sagt man | comment dit on | cómo se dice",
            2.5,
            key="say",
        ),
        Cue.regex(r"\bwhat does ['\"‘“][^\n]{1,80}?['\"”] mean\b", 2.5, guard=("mean",), key="say"),
        Cue.words(
            f"{_HUMAN_LANGS} to/into {_HUMAN_LANGS} | {_HUMAN_LANGS} word for"
            f" | word for ? in {_HUMAN_LANGS}",
            2.5,
        ),
        Cue.words(
            f"in/into/to/auf/ins/en/al/à/a/from {_HUMAN_LANGS}"
            f" | in/into/to/auf/ins/en/al/à/a/from {_LANG_ADJECTIVES} {_HUMAN_LANGS}",
            1.5,
        ),
        Cue.near("put/turn/render/convert this/it/that/these", f"to/into {_HUMAN_LANGS}", 2.5),
        # A bare target language opening the request: "english pls: ...", "portuguese for '...'".
        Cue.words(f"{_HUMAN_LANGS} pls/please/plz/for/version", 2.5, at_start=True),
    ),
    TaskType.QUERY_REWRITING: (
        Cue.words(
            "hyde/reformulat*/reformule*/subquery/subqueries"
            " | search query/queries/string/terms/term/strategy/index/engine"
            " | keyword query/queries"
            " | google/bing/web/vector/semantic/bm25/pubmed/elasticsearch search/query"
            " | retrieval query/queries | sub queries/query | query expansion/expansions"
            " | expand this/the query | query/queries variations | search query variations"
            " | standalone question/query | stand alone question/query"
            " | rewrite the/this/my/these query/queries/question/search | rewrite query"
            " | rephrase this/the/my query/question/search/last"
            " | improve/shorten this/the/my query | improve/shorten this/the/my search query"
            " | chat history | paraphrase/paraphrases of this/the question"
            " | paraphrase/paraphrases of this/the ? question | this/the/my search",
            3.0,
        ),
        Cue.near(
            "rephrase/rewrite/reformulate/reword/turn/make/convert/optimise/optimize/improve",
            "search/searches/google | search query/engine | better search",
            3.0,
            within=8,
        ),
        Cue.words("requête/suchanfrage/búsqueda/zoekopdracht", 2.5, key="foreign"),
        Cue.substrings(("查询", "検索クエリ", "검색어"), 2.5, key="foreign"),
        Cue.words("query/queries", 1.0),
        Cue.words("elasticsearch/solr/lucene/opensearch/westlaw/lexisnexis/espacenet", 1.0),
        Cue.words(
            "boolean/embase/retrieve/retrieval/synonyms/keyword/keywords | mesh term/terms", 1.0
        ),
        Cue.words("search/rephrase/reformulate/rewrite", 0.8),
    ),
    TaskType.RAG_QUERY: (
        Cue.regex(
            r"^[ \t]*(?:context|question)[ \t]*:",
            3.0,
            guard=("context", "question"),
            key="context",
        ),
        Cue.words(
            f"use the following/given/provided {_RAG_SOURCES}"
            f" | using only the {_RAG_SOURCES} | answer using/from the {_RAG_SOURCES}"
            f" | answer using/from only the {_RAG_SOURCES} | answer based on the {_RAG_SOURCES}"
            f" | based on the {_RAG_SOURCES} | based on the text above"
            f" | according to the {_RAG_SOURCES}",
            3.0,
            key="context",
        ),
    ),
    TaskType.GENERAL_QA: (
        Cue.words(
            "hi/hello/hey/hiya/yo/thanks/cheers/bye/bonjour/hola/hallo/ciao | thank you"
            " | good morning/evening/afternoon",
            2.0,
            at_start=True,
            key="chat",
        ),
        Cue.words("how are you", 2.0, key="chat"),
        Cue.words("thanks | thank you", 1.0, key="chat"),
        Cue.words(
            "who/when/where is/was/were/are/did/wrote/invented/painted/discovered/founded/built"
            " | what year/time/day/country/city",
            1.0,
        ),
        Cue.words("define/definition/meaning | stand/stands for", 1.5),
        Cue.near("explain what", "is/are/means", 2.5, within=5, key="definition"),
        Cue.words("what should i/we know", 2.5, key="definition"),
        Cue.words(
            f"how do/can/should/would i/you/we/u {_HOWTO_VERBS} | how to {_HOWTO_VERBS}"
            " | how do/can/should/would i/you/we/u set/turn up/on/off"
            " | how do/can/should/would i/you/we/u get rid/to",
            2.0,
        ),
        Cue.words(
            "recommend | tell me about | overview of | is there a"
            " | what are the rules/symptoms/stages/main",
            1.0,
        ),
        Cue.words("what is/are/was/were/does", 0.5, key="what"),
        # "what is a/the ..." opening a question asks for a definition or a fact; it outweighs a
        # language or tool named in passing, not a comparison or a request to write code.
        Cue.words("what is a/an/the | what's a/an/the", 1.4, at_start=True, key="what"),
        Cue.words(
            "qui/quel/quelle/quels/quelles/wer/wo/wann/quién/cuál/dónde | qué es | was ist", 0.8
        ),
        Cue.substrings(
            ("どこ", "何", "誰", "いつ", "多少", "什么", "谁", "哪", "吗", "ですか"), 0.8
        ),
    ),
}


TASK_CUES: Final = CueIndex(BUILTIN_TASK_CUES)
"""Every built-in task's cues, indexed."""

TASK_ORDER: Final = {task: index for index, task in enumerate(TASK_CUES.names)}
"""Each task's position among the built-ins (ties go to the earlier one)."""
