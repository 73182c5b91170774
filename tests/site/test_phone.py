"""Every chapter at phone width (390 px): nothing wider than the screen, nothing cut off.

Display equations wider than the column scroll inside their own box and show
that they do (a shadow at the edge that has more); equation numbers never sit on
the formula; figures shrink to the column.
"""

import pytest
from probes import chapters, page_id

CHAPTERS = chapters()


@pytest.mark.parametrize("page_path", CHAPTERS, ids=page_id)
def test_chapter_fits_a_phone(measured, page_path):
    phone = measured(page_path)["phone"]
    assert phone["page_width"] <= phone["viewport"], f"page is {phone['page_width']} px wide: {phone['wide'][:8]}"
    assert phone["wide"] == [], f"elements wider than the screen: {phone['wide'][:8]}"
    assert phone["clipped_inline"] == [], f"inline formulas cut off: {phone['clipped_inline']}"
    bad = [d for d in phone["displays"] if d["sticks_out"] or (d["overflows"] and not (d["scrollable"] and d["cue"]))]
    assert bad == [], f"display equations that overflow without scrolling or a cue: {bad[:6]}"
    overlapping = [d["id"] for d in phone["displays"] if d["overlap"]]
    assert overlapping == [], f"equation numbers over their formula: {overlapping}"
    too_wide = [i for i in phone["images"] if not i["fits"]]
    assert too_wide == [], f"images wider than the column: {too_wide}"
