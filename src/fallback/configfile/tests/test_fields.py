import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import TypeAdapter, ValidationError

from fallback.configfile.fields import Email, Slug, Text, django_check


def message(schema, value):
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(schema).validate_python(value)
    [error] = caught.value.errors()
    return (
        str(error["ctx"]["error"]) if "ctx" in error and "error" in error["ctx"] else error["type"]
    )


def test_slug_allows_letters_digits_hyphens_underscores():
    assert TypeAdapter(Slug).validate_python("acme-ltd_2") == "acme-ltd_2"
    assert message(Slug, "Acme Ltd") == (
        "must contain only letters, digits, hyphens and underscores (got 'Acme Ltd')"
    )
    assert message(Slug, "a" * 61) == "string_too_long"


def test_email_is_lowered_and_checked():
    assert TypeAdapter(Email).validate_python(" Ann@Acme.TEST ") == "ann@acme.test"
    assert message(Email, "ann") == "is not a valid email address (got 'ann')"


def test_text_must_not_be_blank_nor_a_number():
    assert message(Text, "  ") == "must not be empty"
    assert message(Text, 12) == "string_type"


def test_django_validators_keep_their_message():
    def no_x(value: str) -> None:
        if "x" in value:
            raise DjangoValidationError("no x please")

    from typing import Annotated

    schema = Annotated[str, django_check(no_x)]
    assert TypeAdapter(schema).validate_python("abc") == "abc"
    assert message(schema, "xyz") == "no x please"
