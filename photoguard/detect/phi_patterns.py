"""The word lists and regular expressions behind ``phi.classify`` (data, no logic).

Both readers' habits are covered: Tesseract's (spaces kept, letters for digits: ``O`` for 0,
``l`` for 1, undone by ``DIGITISH``) and PP-OCR's (spaces dropped after a comma or colon, a
period read for the comma of ``LAST, FIRST``; its readings are cut into words at those places
by ``ocr_ppocr.tokens`` before they get here).
"""

from __future__ import annotations

import re

GIVEN = frozenset(
    """
    james john robert michael william david richard joseph thomas charles christopher daniel
    matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy
    ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin
    scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry
    tyler aaron jose adam nathan henry douglas zachary peter kyle noah ethan jeremy walter
    christian keith roger terry austin sean gerald carl harold dylan arthur lawrence jordan
    jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah wayne randy
    vincent mason roy ralph bobby russell bradley philip eugene liam lucas oliver carlos luis
    miguel ahmed mohammed muhammad ali omar hiroshi kenji wei li chen dmitri ivan sergei
    tomasz piotr raj arjun rahul mary patricia jennifer linda elizabeth barbara susan jessica
    sarah karen lisa nancy betty sandra margaret ashley kimberly emily donna michelle carol
    amanda melissa deborah stephanie dorothy rebecca sharon laura cynthia amy kathleen angela
    shirley brenda emma anna pamela nicole samantha katherine christine helen debra rachel
    carolyn janet maria catherine heather diane olivia julie joyce victoria ruth virginia
    lauren kelly christina joan evelyn judith andrea hannah megan cheryl jacqueline martha
    madison teresa gloria sara janice ann kathryn abigail sophia frances jean alice judy
    isabella julia grace amber denise danielle marilyn beverly charlotte natalie theresa diana
    brittany doris kayla alexis lori marie ava mia sofia fatima aisha priya ananya mei yuki
    olga elena svetlana keisha jane doe chad martin craig todd derek shane troy travis marcus
    curtis dale glenn allen leon tony victor dean luke chris tom jim mike dave bob bill steve
    tina tracy wendy dawn holly jill kim erin tara vanessa
    """.split()  # noqa: SIM905 - a word list reads better as prose
)


def _more_given() -> frozenset[str]:
    """``phi_names.txt``, shipped beside this module (its header says where the names come
    from); read from the package, never fetched."""
    from importlib.resources import files

    text = files("photoguard.detect").joinpath("phi_names.txt").read_text(encoding="utf-8")
    lines = (line for line in text.splitlines() if not line.startswith("#"))
    return frozenset(word for line in lines for word in line.split())


MORE_GIVEN = _more_given()
NAMES = GIVEN | MORE_GIVEN
"""Every given name the unlabelled name rules know (``GIVEN`` and ``phi_names.txt``)."""
NOT_NAME = frozenset(
    """
    hospital medical center centre health clinic general memorial regional university
    community care services unit room floor level wing east west north south welcome visitor
    visitors patient patients safety first nurse station please exit hours visiting hand
    hygiene saves lives fall risk quiet pain scale heart lung cancer children women emergency
    surgery street avenue road lane drive the and of for to in on at with by from
    bed side left right window door pharmacy radiology cardiology oncology pediatrics
    neurology orthopedics maternity laboratory lab icu elevator elevators chapel cafeteria
    restroom restrooms admitting registration entrance lobby ward suite today goal
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
STAFF = re.compile(
    r"(?i)(?:nurse|rn|lpn|cna|np|dr|md|doctor|physician|provider|attending|charge|tech"
    r"|therapist|aide|staff|volunteer|chaplain)"
)
"""A staff role beside a given name ("Nurse: Tom", "RN Jen"): the name is the carer's, not a
patient's (matched against a whole word, punctuation stripped)."""
BED = re.compile(r"(?i)(?<![a-z])(?:bed|bd|rm|room|bay)\.?\s*#?\s*\d{1,4}[a-z]?(?![\d])")
"""A bed or room number: a capitalised word right after it on its line is the occupant's
surname ("Bed 12 Smith", "Rm 4 - GARCIA")."""
LABELS: tuple[tuple[str, str, bool], ...] = (
    # (regex, kind, needs ':' after it)
    (r"patient\s*name|pt\.?\s*name|full\s*name|name", "name", True),
    (r"patient|pt|resident", "name", True),
    (r"date\s*of\s*birth|d\.?\s*o\.?\s*b\.?|birth\s*date|born", "dob", False),
    (
        r"mrn|mr\s*#|mr\s*no\.?|med(?:ical)?\s*rec(?:ord)?\s*(?:no\.?|#)?|fin|acct\.?\s*#?|account\s*#?"
        r"|enc(?:ounter)?\s*#?|csn|har|(?:patient|pt|member)\s*id|id\s*#",
        "mrn",
        False,
    ),
    (r"ssn|social\s*security(?:\s*(?:no\.?|#|number))?", "ssn", False),
    (r"admit(?:ted)?|adm\.?|admission|discharge(?:d)?|d/c|dos|date", "date", True),
    (r"tel\.?|phone|ph\.?|cell|mobile|family|contact", "phone", True),
    (r"fax", "fax", False),
    (r"e-?mail", "email", False),
    (r"address|addr\.?", "address", True),
    (r"age", "age", False),
)
COLON, OPTIONAL_COLON = r"\s*[:;]", r"\s*[:;#.]?"
LABEL_RE = re.compile(
    "|".join(
        rf"(?P<l{i}>(?<![A-Za-z])(?:{rx})(?![A-Za-z]){COLON if colon else OPTIONAL_COLON})"
        for i, (rx, _, colon) in enumerate(LABELS)
    ),
    re.IGNORECASE,
)
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx, re.IGNORECASE))
    for kind, rx in (
        # an address, perhaps cut short ("imes.moreau@mail"), or with the space OCR often puts
        # beside the @ (then with a dotted domain); an @ in texture garbage ("~@ !", "RGO@E")
        # is not one (a labelled "Email:" field still is)
        (
            "email",
            r"[\w.%+-]{2,}@[A-Za-z][\w-]{2,}(?:[.,][\w-]+)*|[\w.%+-]+ ?@ ?[\w-]+(?:[.,][\w-]+)+",
        ),
        ("url", r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|org|net|edu|gov|io|us|info)(?:/\S*)?\b"),
        ("ssn", r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)"),
        ("phone", r"(?<!\d)(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}(?!\d)"),
        (
            "date",
            r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|(?:19|20)\d{2}[/.-]\d{1,2}[/.-]\d{1,2})(?!\d)",
        ),
        ("date", rf"(?<!\d)\d{{1,2}}[\s/.-]*{MONTH}[\s/.,-]*\d{{2,4}}(?!\d)"),
        # PP-OCR reads the comma as a period and drops the spaces: "Apr10.1983"
        ("date", rf"\b{MONTH}\s*\d{{1,2}}(?:st|nd|rd|th)?[,.]?\s*\d{{4}}(?!\d)"),
        ("date", r"(?<![\d/])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])(?![\d/])"),
        ("age", r"(?<!\d)(?:9\d|1[01]\d)\s*(?:y/?o|yo|yrs?|years?(?:\s*old)?|y)\b"),
        ("zip", r"\b[A-Z]{2},?\s+\d{5}(?:-\d{4})?(?!\d)|(?<!\d)\d{5}-\d{4}(?!\d)"),
        ("address", r"p\.?\s*o\.?\s*box\s+\d+"),
        ("mrn", r"(?<![\w])[A-Z]{0,3}#?\d{6,}(?![\w])"),
        # the same number printed in groups ("293-704", "12-345-678"; Tesseract may read a
        # space beside the hyphen): six digits or more in all, none of them a date or phone
        ("mrn", r"(?<![\w-])[A-Z]{0,3}#?(?=(?:\s?-?\s?\d){6})\d+(?:\s?-\s?\d+)+(?![\w-])"),
        ("name", r"\b(?:mr|mrs|ms|miss|mx)\.?\s+(?-i:[A-Z][a-z'-]+)"),
    )
)
LAST_FIRST = re.compile(
    r"(?<![\w])([A-Z][A-Za-z'-]+),\s*([A-Z][A-Za-z'-]+)(?:\s+[A-Z]\.?)?(?![\w])"
    # PP-OCR reads the comma of an upper-case "DOE, JANE" as a period now and then
    r"|(?<![\w])([A-Z][A-Z'-]+)\.\s*([A-Z][A-Z'-]+)(?:\s+[A-Z]\.?)?(?![\w])"
)
SEX_MARKER = re.compile(r"[\[(](?:M|F|U|O|X)[\])]")
INITIAL = re.compile(
    r"(?<![A-Za-z])[A-Z]\.\s?[A-Z][a-z'-]{2,}"
    # an initial I read as 1, l or | where a reader ran it into the number before it
    # ("124 I. Smith" read "1241.Smith" or "124 l. Smith")
    r"|(?:(?<=\d)|(?<=\d\s))[1l|]\.\s?[A-Z][a-z'-]{2,}"
    # or where the line is the initial and the surname alone (a door's "I. Smith": "1.Smith")
    r"|^[1l|]\.\s?[A-Z][a-z'-]{2,}$"
)
DIGITISH = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "S": "5", "B": "8", "A": "4"}
)

SUFFIXES = (
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "drive",
    "dr",
    "lane",
    "ln",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "terrace",
    "highway",
    "hwy",
    "parkway",
    "pkwy",
)
