"""The accessible-name checker the page tests use (tests/accessible_names.py) finds what it
is meant to find, and nothing else."""

from tests.accessible_names import control_names, field_names, shared_names


def test_a_name_includes_visually_hidden_text_and_skips_what_is_hidden_from_everyone():
    html = (
        '<a href="/a">Edit<span class="visually-hidden"> note on A</span></a>'
        '<button><span aria-hidden="true">★</span> Revisit later</button>'
        '<a href="/b" aria-label="Open B">B</a>'
        '<a href="/c" hidden>Hidden</a><template><a href="/d">In a template</a></template>'
        '<div aria-hidden="true"><a href="/e">Drawn only</a></div>'
    )
    assert [name for name, _ in control_names(html)] == [
        "Edit note on A",
        "Revisit later",
        "Open B",
    ]


def test_controls_with_one_name_and_different_targets_are_reported():
    html = (
        '<a href="/tracks/a/">Cancel</a><a href="/tracks/b/">Cancel</a>'
        '<a href="/me/">Dashboard</a><a href="/me/">Dashboard</a>'  # same target: fine
        '<form method="post" action="/x"><input type="hidden" name="csrfmiddlewaretoken" '
        'value="1"><input type="hidden" name="user" value="1"><button>Revoke</button></form>'
        '<form method="post" action="/x"><input type="hidden" name="csrfmiddlewaretoken" '
        'value="2"><input type="hidden" name="user" value="2"><button>Revoke</button></form>'
        '<form method="post" action="/y"><button>Save</button></form>'
        '<form method="post" action="/y"><button>Save</button></form>'  # the same save
    )
    assert sorted(shared_names(html)) == ["cancel", "revoke"]


def test_fields_are_named_by_their_labels_and_one_label_for_two_fields_is_reported():
    html = (
        '<form action="/teams/1/"><label for="n1">Team name</label><input id="n1" name="name">'
        '<label><input type="checkbox" name="ok" value="1"> Ready</label></form>'
        '<form action="/teams/2/"><label for="n2">Team name</label><input id="n2" name="name">'
        '<select name="who" aria-label="Member of team 2"></select></form>'
        '<a href="/teams/">Team name</a>'  # a link: listed apart from the fields
    )
    assert [name for name, _ in field_names(html)] == [
        "Team name",
        "Ready",
        "Team name",
        "Member of team 2",
    ]
    assert list(shared_names(html)) == ["team name"]
