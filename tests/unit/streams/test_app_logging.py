import logging

from faust.utils.terminal import Spinner, SpinnerHandler

from riskstream.streams.app import quiet_root_logger


def spun_up_logger(name: str, handler_level: int) -> logging.Logger:
    """A logger set up the way Faust's worker leaves the root one at ``-l <level>``."""
    logger = logging.getLogger(name)
    logger.handlers.clear()
    printing = logging.StreamHandler()
    printing.setLevel(handler_level)
    logger.addHandler(printing)
    logger.addHandler(SpinnerHandler(Spinner(), level=logging.DEBUG))
    logger.setLevel(logging.DEBUG)
    return logger


def test_debug_records_stop_once_the_spinner_is_gone() -> None:
    logger = spun_up_logger("riskstream-test-warn", logging.WARNING)
    assert logger.isEnabledFor(logging.DEBUG)
    quiet_root_logger(logger)
    assert not logger.isEnabledFor(logging.DEBUG)
    assert logger.isEnabledFor(logging.WARNING)
    assert not any(isinstance(handler, SpinnerHandler) for handler in logger.handlers)


def test_a_handler_that_prints_everything_keeps_debug_on() -> None:
    logger = spun_up_logger("riskstream-test-debug", logging.NOTSET)
    quiet_root_logger(logger)
    assert logger.isEnabledFor(logging.DEBUG)
