"""Pure PHI classifier tests over hand-built OCR lines (no Tesseract)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from photoguard.detect.phi import PhiRules, classify
from photoguard.detect.text import OcrLine, OcrWord
from photoguard.types import Box, RegionKind


def line(text: str, y: int = 0, conf: float = 95.0, x: int = 0, h: int = 20) -> OcrLine:
    """One OCR line with a 12 px-per-character word layout."""
    words, cx = [], x
    for token in text.split():
        words.append(OcrWord(token, conf, Box(cx, y, cx + 12 * len(token), y + h)))
        cx += 12 * (len(token) + 1)
    return OcrLine(tuple(words), Box(x, y, max(cx - 12, x + 1), y + h))


def labels(*lines: OcrLine, rules: PhiRules | None = None) -> set[str]:
    return {d.label for d in classify(list(lines), rules)}


def covered(dets, ln: OcrLine, index: int) -> str | None:
    """Label of the detection covering word ``index`` of ``ln``, if any."""
    box = ln.words[index].box
    for d in dets:
        if d.box.intersection(box) == box.area:
            return d.label
    return None


def test_wristband_lines():
    lines = [
        line("DOE, JANE", 0),
        line("DOB: 03/14/1962", 30),
        line("MRN: 00482913", 60),
        line("Mercy General Hospital", 90),
    ]
    dets = classify(lines, PhiRules(allow=("Mercy General Hospital",)))
    assert covered(dets, lines[0], 0) == "name" and covered(dets, lines[0], 1) == "name"
    assert covered(dets, lines[1], 1) == "dob"
    assert covered(dets, lines[2], 1) == "mrn"
    assert all(covered(dets, lines[3], i) is None for i in range(3))
    assert all(d.kind == RegionKind.TEXT for d in dets)


def test_labels_never_carry_text():
    dets = classify([line("Patient: Maria Okafor"), line("SSN 123-45-6789", 30)])
    for d in dets:
        assert "Maria" not in d.label and "123" not in d.label
        assert d.label in {"name", "ssn"}


def test_patterns():
    assert labels(line("Call 555-201-3344 today")) == {"phone"}
    assert labels(line("Fax: (555) 201-9988")) == {"fax"}
    assert labels(line("write to jane.doe@gmail.com")) == {"email"}
    # OCR splits an address at the @: both halves are still the email
    assert labels(line("maria.okafor @mail.example.com")) == {"email"}
    assert labels(line("see www.janedoe-family.com")) == {"url"}
    assert labels(line("1428 Elm Street")) == {"address"}
    assert labels(line("Springfield, IL 62704")) >= {"zip"}
    assert labels(line("Admitted 14-Mar-2024")) == {"date"}
    assert labels(line("Acct# 7781234")) == {"mrn"}
    assert labels(line("id 4829133001")) == {"mrn"}
    assert labels(line("Mr. Haddad")) == {"name"}
    assert labels(line("J. Kowalski")) == {"name"}


def test_ages_over_89_only():
    assert labels(line("Age: 93")) == {"age"}
    assert labels(line("93 y/o female")) == {"age"}
    assert labels(line("Age: 45")) == set()
    assert labels(line("45 y/o female")) == set()
    # PP-OCR glues the unit on: the number is still read, under 90 it is no PHI
    assert labels(line("Age: 78y")) == set()
    assert labels(line("Age: 78yo")) == set()
    assert labels(line("Age: 93y")) == {"age"}
    assert labels(line("Age: 7By")) == {"age"}  # not a clean number: fail closed
    # Tesseract reads the unit as a word of its own: no age of its own
    assert labels(line("Age: 49 y")) == set()
    assert labels(line("Age: 49 yrs old")) == set()
    assert labels(line("Age: 94 y")) == {"age"}


def test_a_young_age_joined_to_the_next_field_labels_nothing_of_it():
    """An EHR screen's "Age: 31 y" found on one row with the next field: the age is the number
    after the label, not the rest of the row; what follows is classified by its own rules."""
    row = line("Age: 31 y Ward 4 North")
    assert labels(row) == set()
    assert all(covered(classify([row]), row, i) is None for i in range(len(row.words)))
    assert labels(line("Age: 31 y 458.207.3152")) == {"phone"}
    dets = classify([row := line("Age: 31 y 458.207.3152")])
    assert covered(dets, row, 0) is None and covered(dets, row, 1) is None
    # fail closed: digits split by OCR are one number, a garbled value is no clean number
    assert labels(line("Age: 9 2 Ward")) == {"age"}
    assert labels(line("Age: 7By Ward")) == {"age"}
    assert labels(line("Age: Ward 92")) == {"age"}


def test_labelled_value_redacted_even_if_ocr_garbled():
    # DOB value unreadable as a date: still redacted as dob because of its label
    ln = line("DOB: 0l/1?/19S2")
    assert covered(classify([ln]), ln, 1) == "dob"


def test_label_on_one_line_value_on_the_next_to_the_right():
    label = line("Patient:", 0, x=0)
    value = line("Tomasz Zielinski", 0, x=120)
    dets = classify([label, value])
    assert covered(dets, value, 0) == "name" and covered(dets, value, 1) == "name"


def test_decoys_stay():
    for text in (
        "Welcome",
        "Visiting Hours 8am - 8pm",
        "Hand Hygiene Saves Lives",
        "Room 412",
        "Patient Safety First",
        "HR 72 bpm",
        "SpO2 98%",
        "Pain scale 0-10",
        "Level 3 East",
        "NIBP 120/80",
        "Open 24/7",
    ):
        assert labels(line(text)) == set(), text


def test_allow_list_is_ocr_tolerant_and_regex():
    rules = PhiRules(allow=("St. Mary Medical Center",), allow_patterns=(r"mercy\.example\.org",))
    assert labels(line("St. Mary Medica1 Center"), rules=rules) == set()
    assert labels(line("visit https://mercy.example.org"), rules=rules) == set()
    # the allow-list never hides a labelled value
    assert labels(line("Mary Medical Center MRN 0048291"), rules=rules) == {"mrn"}


def test_deny_list_names_fuzzy():
    rules = PhiRules(deny_names=("Oksana Wierzbicka",))
    assert labels(line("visit from Wierzbicke today"), rules=rules) == {"name"}
    assert labels(line("visit from nobody today"), rules=rules) == set()


def test_low_confidence_next_to_phi_is_unreadable():
    phi = line("MRN: 00482913", 0)
    smudge = line("xq7 Rv", 24, conf=20)
    far = line("xq7 Rv", 400, conf=20)
    dets = classify([phi, smudge, far])
    assert covered(dets, smudge, 0) == "unreadable"
    assert covered(dets, far, 0) is None


def test_redact_all_text_keeps_allow_list():
    rules = PhiRules(allow=("Riverside Health",), redact_all_text=True)
    ln = line("Riverside Health Goal walk twice")
    dets = classify([ln], rules)
    assert covered(dets, ln, 0) is None and covered(dets, ln, 1) is None
    assert covered(dets, ln, 2) == "text"


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(1920, 2024),
    st.sampled_from(["/", "-", "."]),
)
def test_any_numeric_date_after_dob_label_is_dob(m, d, y, sep):
    ln = line(f"DOB {m:02d}{sep}{d:02d}{sep}{y}")
    assert covered(classify([ln]), ln, 1) == "dob"


PROSE = (
    "welcome",
    "to",
    "the",
    "ward",
    "please",
    "wash",
    "your",
    "hands",
    "visiting",
    "hours",
    "are",
    "over",
    "quiet",
    "room",
    "level",
    "east",
    "west",
    "nurse",
    "station",
    "thank",
    "you",
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(PROSE), min_size=1, max_size=8), st.booleans())
def test_signage_prose_is_not_phi(tokens, title):
    text = " ".join(t.title() if title else t for t in tokens)
    assert classify([line(text)]) == []


def test_dicom_overlay_names():
    assert labels(line("KAUFMAN SCOTT [M] 03.09.2012")) == {"name", "date"}
    ln = line("DAVIDSON | DOUGLAS")
    dets = classify([ln])
    assert covered(dets, ln, 0) == "name" and covered(dets, ln, 2) == "name"


def test_a_label_word_in_texture_garbage_labels_nothing():
    # Tesseract reads photo textures as low-confidence garbage; an "age" or "fin" in it is not
    # a label (it would mark the rest of the line as PHI and block a clean redacted copy)
    assert labels(line("Sew ae War age Sew a A", conf=25)) == set()
    assert labels(line("HARE fin ROR ees", conf=25)) == set()
    assert labels(line("~@ !", conf=16)) == set()  # a lone @ is no email address
    assert labels(line("RGO@E PF APF", conf=46)) == set()  # nor one without a dotted domain
    assert labels(line("eee - Ms ee does", conf=47)) == set()  # an honorific before garbage
    # read confidently, or written with its colon, the same word is a label
    assert labels(line("Age 92")) == {"age"}
    assert labels(line("Age: 92", conf=40)) == {"age"}
    assert labels(line("FIN 7781234")) == {"mrn"}


def test_an_unlabelled_name_needs_every_word_read_confidently():
    def mixed(confs: list[float]) -> OcrLine:
        ln = line("SMS, BAY wes 8 fo")
        words = tuple(replace(w, conf=c) for w, c in zip(ln.words, confs, strict=True))
        return OcrLine(words, ln.box)

    # one confident word of a "LAST, FIRST" read from texture is not a name
    assert labels(mixed([37, 65, 34, 14, 13])) == set()
    assert "name" in labels(mixed([90, 90, 34, 14, 13]))


def test_a_name_cut_at_a_word_gap_is_read_across_the_cut():
    # large door-tag text: the region finder returned "Nguyen," and "Carlos" as two lines
    first = line("Nguyen,", x=100, h=60)
    second = line("Carlos", x=100 + 12 * 8 + 30, h=60)
    assert labels(first, second) == {"name"}
    second = line("Kowalski", x=100 + 12 * 8 + 30, h=60)
    assert labels(first, second) == {"name"}
    # the same words on two rows are two lines, not one name (a given name alone on its line
    # is one: "Carlos" would be)
    assert labels(line("Nguyen,", x=100, h=60), line("Kowalski", y=200, x=100, h=60)) == set()


def pp_line(reading: str, y: int = 0, conf: float = 97.0) -> OcrLine:
    """A PP-OCR reading cut into words the way the reader cuts it (ocr_ppocr.tokens)."""
    from photoguard.detect.ocr_ppocr import tokens

    words = [
        OcrWord(reading[a:b], conf, Box(12 * a, y, 12 * b, y + 20)) for a, b in tokens(reading)
    ]
    return OcrLine(tuple(words), Box(0, y, 12 * len(reading), y + 20), "ppocr")


def test_ppocr_readings_without_spaces_classify():
    # PP-OCR drops the space after a comma or colon and between words and numbers
    cases = {
        "WILLIAMS,KEVIN": "name",
        "DOE.JANE": "name",
        "DOB:03/14/1962": "dob",
        "MRN:00482913": "mrn",
        "Pt:Kevin Tanaka": "name",
        "9404PineDr": "address",
        "SSN775-82-8736": "ssn",
        "Tel:(588)405-5684": "phone",
        "ID1430692402": "mrn",
        "Admitted:03/12/2024": "date",
    }
    for reading, kind in cases.items():
        assert kind in labels(pp_line(reading)), reading


def test_ppocr_signage_without_spaces_is_not_phi():
    rules = PhiRules(allow=("St. Luke's Medical Center",))
    for reading in ("St.Luke'sMedical Center", "Visiting Hours 8am-8pm", "Room730", "VISITOR"):
        assert labels(pp_line(reading), rules=rules) == set(), reading


def test_a_label_is_redacted_with_its_value():
    """Left beside its covered value, "SSN:" was read again in the re-check of the copy with
    the cover's edge as a new field, round after round (a form that never converged)."""
    ln = line("SSN: 285-42-1234")
    dets = classify([ln])
    assert covered(dets, ln, 0) == "ssn" and covered(dets, ln, 1) == "ssn"
    young = line("Age: 45")
    assert covered(classify([young]), young, 0) is None  # no old age: neither label nor value


def test_an_a_read_for_a_4_in_a_number_is_undone():
    # an upside-down "4/27/26" read "A/27/26" with confidence by PP-OCR
    assert labels(line("A/27/26")) == {"date"}


def test_an_identifier_printed_in_groups_is_a_record_number():
    # "ID 293-704" read with confidence by both readers was published: six digits in groups
    for text in ("ID 293-704", "293-704", "316-87147", "12-345-678", "Acct 437 - 90952"):
        assert labels(line(text)) == {"mrn"}, text
        assert labels(pp_line(text.replace(" ", ""))) == {"mrn"}, text
    # a number in groups with fewer digits is no record number
    for text in ("Pain scale 0-10", "Room 12-3", "Beds 1-12", "Open 9-17"):
        assert labels(line(text)) == set(), text


def test_a_date_with_a_month_name_survives_both_readers_habits():
    # the month of "05-Dec-1978" was read as digits ("0ec") before the date was matched;
    # PP-OCR reads "Apr 10, 1983" as "Apr10.1983"
    for text in ("05-Dec-1978", "10-Jul-2013", "Apr 10, 1983", "Jan 10. 2008"):
        assert labels(line(text)) == {"date"}, text
    for reading in ("05-Dec-1978", "Apr10.1983", "DOB:10-Jul-2013"):
        assert labels(pp_line(reading)) & {"date", "dob"}, reading


def test_an_initial_run_into_the_number_before_it_is_still_a_name():
    # "124 I. Smith": PP-OCR reads "1241.Smith", Tesseract "124 l. Smith"
    assert "name" in labels(pp_line("1241.Smith"))
    assert "name" in labels(line("124 l. Smith"))
    assert "name" in labels(pp_line("124J.Smith"))
    # a numbered instruction is not a name
    for text in ("1. Wash hands", "Step 1. Remove cap", "Level 3. East"):
        assert labels(line(text)) == set(), text


def test_a_name_in_capitals_read_without_comma_or_spaces_is_a_name():
    # PP-OCR reads a wristband's "OKAFOR, HIROSHI A" as "OKAFORHIROSHIA"
    for reading in ("OKAFORHIROSHIA", "BROWNGRACED", "DUBOISROBERTS", "SMITHJAMES"):
        assert labels(pp_line(reading)) == {"name"}, reading
    # in mixed case, the comma read as a period or dropped with the space
    for reading in ("Tanaka.Linda", "Singh.Noah", "RossiMaria", "KevinTanaka"):
        assert labels(pp_line(reading)) == {"name"}, reading
    for reading in ("PATIENTSUMMARY", "PEDIATRICS", "EMERGENCY", "HANDHYGIENE", "ChartView"):
        assert labels(pp_line(reading)) == set(), reading


def test_a_staff_role_glued_to_a_given_name_is_the_carers_name():
    """PP-OCR reads a whiteboard's "Nurse: Mark" with a full-width colon ("Nurse：Mark", one
    token): glued, it looked like "KevinTanaka"; after a staff role the name is the carer's,
    as "Nurse: Tom" is."""
    for reading in ("Nurse：Mark", "NurseMark", "Dr.Ana"):
        assert labels(pp_line(reading)) == set(), reading
    assert labels(pp_line("Okafor：Mark")) == {"name"}  # a surname before it: a name


def test_an_age_over_89_with_its_unit_is_phi_without_its_label():
    """An EHR screen prints the age as "93 y" apart from its "Age:" label (another line):
    PP-OCR reads "93y" at 0.99, Tesseract "93 y"; both were published."""
    assert labels(line("93y")) == {"age"}
    assert labels(line("93 y")) == {"age"}
    assert labels(line("104 y")) == {"age"}
    assert labels(line("49 y")) == set()
    assert labels(line("49y")) == set()
    assert labels(line("Exit 93 yards")) == set()  # a word that starts with y is no unit


def test_a_given_name_with_an_initial_or_alone_on_its_line_is_a_name():
    """A whiteboard writes the patient as "Mei O." or "Priya" alone on a row; both were read
    with confidence and published (no surname beside the given name)."""
    for text in ("Mei O.", "Priya", "Esperanza", "Guadalupe R", "Chidi O."):
        assert labels(line(text)) == {"name"}, text
    assert labels(pp_line("Mei O.")) == {"name"}
    # the carer beside a staff role is no patient; a lone sign word is no name
    for text in ("Nurse: Tom", "RN Jen", "Dr. Ana", "Welcome", "Pharmacy", "Summer Hours"):
        assert labels(line(text)) == set(), text
    for text in ("Radiology", "EXIT", "Elevators", "VISITOR", "Will Call", "Hope"):
        assert labels(line(text)) == set(), text
    # the role and the name found as two lines of one row
    assert labels(line("Nurse:", x=100), line("Tom", x=100 + 12 * 7 + 20)) == set()
    assert labels(line("Nurse:", x=100), line("Tom", y=80, x=100)) == {"name"}  # another row


def test_given_names_beyond_the_short_list_are_names():
    """Names outside the first list ("Guadalupe Martinez", glued capitals of a wristband read
    by PP-OCR without comma and spaces) were published; the longer list ships in the package."""
    from photoguard.detect import phi_patterns

    assert len(phi_patterns.MORE_GIVEN) > 2000 and "will" not in phi_patterns.NAMES
    for text in ("Guadalupe Martinez", "Chidi Okonkwo", "Agnieszka Nowak"):
        assert labels(line(text)) == {"name"}, text
    for reading in ("MARTINEZGUADALUPE", "OKONKWOCHIDIA", "KowalczykAgnieszka"):
        assert labels(pp_line(reading)) == {"name"}, reading
    for text in ("Mercy General Hospital", "Grace Chapel", "Jordan Wing", "Rose Garden"):
        assert labels(line(text)) == set(), text


def test_a_surname_after_a_bed_or_room_number_is_a_name():
    for text in ("Bed 12 Smith", "Rm 4 - GARCIA", "Room 7B Kowalski", "BED 3: Haddad"):
        ln = line(text)
        dets = classify([ln])
        assert {d.label for d in dets} == {"name"}, text
        assert covered(dets, ln, 0) is None  # the bed number itself stays
    for text in ("Bed 3 East", "Room 12 Pharmacy", "Bed 28", "Welcome to Room 710", "Bed 2 Left"):
        assert labels(line(text)) == set(), text


def test_an_initial_read_as_a_digit_before_a_surname_alone_is_a_name():
    # a door's "I. Smith" read "1.Smith" (PP-OCR) or "l. Smith" (Tesseract), nothing before it
    assert labels(pp_line("1.Smith")) == {"name"}
    assert labels(line("l. Smith")) == {"name"}
