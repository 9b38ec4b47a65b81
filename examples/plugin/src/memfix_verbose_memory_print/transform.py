"""The codemod of `verbose-memory-print`; its documentation is the package's docstring."""

from __future__ import annotations

import libcst as cst

from memfix.rules.codemod import Codemod, Invalid, Valid
from memfix.vocabulary import langchain_class
from memfix_verbose_memory_print import CHAINS
from memfix_verbose_memory_print import RULE as VERBOSE_MEMORY_PRINT


class VerboseMemoryPrint(Codemod):
    RULE = VERBOSE_MEMORY_PRINT
    MESSAGE = "{chain} with verbose=True prints every turn of the conversation"

    VALID = [
        Valid(
            "from langchain.chains import ConversationChain\n"
            "from langchain_openai import ChatOpenAI\n"
            "\n"
            "chain = ConversationChain(llm=ChatOpenAI())\n"
        ),
        # Not a literal True: whoever sets it decides.
        Valid(
            "import os\n"
            "\n"
            "from langchain.chains import ConversationChain\n"
            "from langchain_openai import ChatOpenAI\n"
            "\n"
            'chain = ConversationChain(llm=ChatOpenAI(), verbose=bool(os.environ.get("DEBUG")))\n'
        ),
        # The same class name, not from LangChain.
        Valid("from mylib import ConversationChain\n\nchain = ConversationChain(verbose=True)\n"),
    ]
    INVALID = [
        Invalid(
            "from langchain.chains import ConversationChain\n"
            "from langchain.memory import ConversationBufferMemory\n"
            "from langchain_openai import ChatOpenAI\n"
            "\n"
            "chain = ConversationChain(\n"
            "    llm=ChatOpenAI(), memory=ConversationBufferMemory(), verbose=True\n"
            ")\n",
            expected=(
                "from langchain.chains import ConversationChain\n"
                "from langchain.memory import ConversationBufferMemory\n"
                "from langchain_openai import ChatOpenAI\n"
                "\n"
                "chain = ConversationChain(\n"
                "    llm=ChatOpenAI(), memory=ConversationBufferMemory()\n"
                ")\n"
            ),
        ),
        Invalid(
            "from langchain.chains import LLMChain\n"
            "\n"
            "chain = LLMChain(verbose=True, llm=llm, prompt=prompt)\n",
            expected=(
                "from langchain.chains import LLMChain\n"
                "\n"
                "chain = LLMChain(llm=llm, prompt=prompt)\n"
            ),
        ),
    ]

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        chain = self._chain(original_node)
        if chain is None or not any(_is_verbose(arg) for arg in original_node.args):
            return updated_node
        if not self.report(original_node, self.MESSAGE.format(chain=chain), fixed=True):
            return updated_node  # silenced by `# memfix: ignore[verbose-memory-print]`
        kept = [arg for arg in updated_node.args if not _is_verbose(arg)]
        last = updated_node.args[-1]
        if kept and kept[-1] is not last:
            # The new last argument ends the call as the removed one did: no comma left
            # dangling, the line break before `)` kept.
            kept[-1] = kept[-1].with_changes(
                comma=last.comma, whitespace_after_arg=last.whitespace_after_arg
            )
        return updated_node.with_changes(args=kept)

    def _chain(self, call: cst.Call) -> str | None:
        """The LangChain chain class `call` builds, by the module's imports; else None."""
        for name in self.imported(call.func):
            found = langchain_class(name)
            if found in CHAINS:
                return found
        return None


def _is_verbose(arg: cst.Arg) -> bool:
    return (
        arg.keyword is not None
        and arg.keyword.value == "verbose"
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "True"
    )
