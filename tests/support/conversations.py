"""Two users, two turns each: what each user's second prompt shows."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.fakes import PROMPTS, last_prompt

Say = Callable[[str, str], None]
Driver = Callable[[str], Say]


def conversation(say: Say) -> tuple[str, str]:
    """A and B each give a name, then each asks for it: the prompts of the two questions."""
    PROMPTS.clear()
    say("a", "My name is Sam")
    say("b", "My name is Kim")
    say("a", "What's my name?")
    second_of_a = last_prompt()
    say("b", "What's my name?")
    return second_of_a, last_prompt()


def remembers_apart(prompts: tuple[str, str]) -> bool:
    of_a, of_b = prompts
    return (
        "My name is Sam" in of_a
        and "Kim" not in of_a
        and ("My name is Kim" in of_b and "Sam" not in of_b)
    )
