from fallback.configfile.errors import ConfigError, ConfigInvalid, format_loc, located


def test_loc_is_written_as_dotted_keys_and_indexes():
    assert format_loc(("members", 1, "role")) == "members[1].role"
    assert format_loc(("organisation",)) == "organisation"
    assert format_loc(()) == ""


def test_message_is_prefixed_with_its_place_unless_it_is_the_whole_document():
    assert located(("version",), "is required") == "version: is required"
    assert located((), "the file is empty") == "the file is empty"


def test_error_reads_file_colon_line_colon_message():
    assert (
        str(ConfigError("acme.yaml", 7, "members[1].role: bad"))
        == "acme.yaml:7: members[1].role: bad"
    )


def test_invalid_lists_errors_in_line_order_once_each():
    a = ConfigError("f.yaml", 9, "late")
    b = ConfigError("f.yaml", 2, "early")
    c = ConfigError("f.yaml", 2, "early too")
    exc = ConfigInvalid([a, b, c, a])
    assert exc.errors == [b, c, a]
    assert str(exc).splitlines() == ["f.yaml:2: early", "f.yaml:2: early too", "f.yaml:9: late"]
