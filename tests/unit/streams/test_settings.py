import pytest
from pydantic import ValidationError

from riskstream.streams.settings import Settings


def test_exactly_once_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="exactly_once is refused"):
        Settings(processing_guarantee="exactly_once")
    assert Settings(processing_guarantee="at_least_once").processing_guarantee == "at_least_once"


def test_a_guarantee_faust_does_not_know_is_refused() -> None:
    with pytest.raises(ValidationError, match="processing_guarantee"):
        Settings(processing_guarantee="at_most_once")  # type: ignore[arg-type]
