"""The codemod of `legacy-conversation-chain`; its documentation is the package's docstring."""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst
import libcst.matchers as m

from memfix.codemods._shared.find import findall
from memfix.codemods._shared.identity import find_identity_in_module
from memfix.codemods._shared.imports import without_unused_names
from memfix.codemods._shared.langchain import imported_frameworks
from memfix.codemods._shared.names import bindings
from memfix.codemods._shared.prompts import argument, template_variables
from memfix.codemods._shared.wiring import Edit, PlannedEdits, Reach
from memfix.codemods.legacy_conversation_chain import RULE as LEGACY_CONVERSATION_CHAIN
from memfix.codemods.legacy_conversation_chain import migration as new
from memfix.config import Target
from memfix.rules.codemod import Fix, Invalid, Valid
from memfix.vocabulary import MEMORY_CLASSES

_CHAIN_KEYWORDS = frozenset({"llm", "memory", "prompt", "verbose", "input_key", "output_key"})
_MEMORY_KEYWORDS = frozenset(
    {"memory_key", "return_messages", "input_key", "output_key", "human_prefix", "ai_prefix", "k"}
)
_BUFFERS = frozenset({"ConversationBufferMemory", "ConversationBufferWindowMemory"})
# Memories an agent keeps with SummarizationMiddleware, and the keywords they may take.
_SUMMARIES = frozenset({"ConversationSummaryMemory", "ConversationSummaryBufferMemory"})
_SUMMARY_KEYWORDS = _MEMORY_KEYWORDS - {"k"} | {"llm", "max_token_limit"}
# Where a name is bound rather than read: a result bound again cannot be followed.
_BINDINGS = (
    cst.AssignTarget,
    cst.AugAssign,
    cst.AnnAssign,
    cst.NamedExpr,
    cst.For,
    cst.CompFor,
    cst.Param,
    cst.NameItem,
    cst.AsName,
    cst.Del,
    cst.Tuple,
    cst.List,
    cst.StarredElement,
    cst.Element,
)
# Completion models: an agent needs a chat model.
_COMPLETIONS = frozenset({"OpenAI", "AzureOpenAI"})


@dataclass(frozen=True, slots=True)
class _Plan:
    """One chain to migrate: every edit that goes with it, and what the module needs."""

    default_prompt: str | None  # the CONVERSATION_PROMPT source, when the chain had none
    edits: tuple[tuple[cst.CSTNode, Edit], ...]
    removed: frozenset[str]  # classes whose imports may now be unused
    converted: bool  # a chat prompt was written: its classes must be imported
    uses_constant: bool
    unsafe: bool
    windowed: bool = False  # an agent's window middleware is used
    summarized: bool = False  # an agent's summary middleware is used


class _Declined(Exception):
    """Why a chain is reported and left as it is."""


class _Deferred(_Declined):
    """A key mismatch: the key codemods report and fix it, then the chain migrates."""


def _removed(_: cst.CSTNode) -> cst.RemovalSentinel:
    return cst.RemovalSentinel.REMOVE


def _unsubscripted(node: cst.CSTNode) -> cst.CSTNode:
    return cst.ensure_type(node, cst.Subscript).value


def _replaced_by(text: str) -> Edit:
    expression = cst.parse_expression(text)
    return lambda _: expression


_IMPORTS = (
    "from langchain_openai import ChatOpenAI\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain.chains import ConversationChain\n\n"
)


def _reply(params: str, body: str, memory: str = "ConversationBufferMemory()") -> str:
    return (
        f"{_IMPORTS}memory = {memory}\n"
        "chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n\n\n"
        f"def reply({params}):\n    return {body}\n"
    )


_MIGRATED = (
    "from langchain_openai import ChatOpenAI\n{extra}"
    "from langchain_core.chat_history import BaseChatMessageHistory, InMemoryChatMessageHistory\n"
    "from langchain_core.output_parsers import StrOutputParser\n"
    "from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder\n"
    "from langchain_core.runnables.history import RunnableWithMessageHistory\n\n"
    "CONVERSATION_PROMPT = ChatPromptTemplate.from_messages(\n"
    "    [\n"
    "        (\n"
    '            "system",\n'
    '            "The following is a friendly conversation between a human and an AI. The AI is "\n'
    '            "talkative and provides lots of specific details from its context. '
    'If the AI does "\n'
    '            "not know the answer to a question, it truthfully says it does not know.",\n'
    "        ),\n"
    '        MessagesPlaceholder("history"),\n'
    '        ("human", "{{input}}"),\n'
    "    ]\n"
    ")\n{constant}"
    "store = {{}}\n\n\n"
    "def get_session_history(session_id: str) -> BaseChatMessageHistory:\n"
    "    if session_id not in store:\n"
    "        store[session_id] = InMemoryChatMessageHistory()\n"
    "    return store[session_id]\n\n\n"
    "chain = RunnableWithMessageHistory(\n"
    "    CONVERSATION_PROMPT | ChatOpenAI() | StrOutputParser(),\n"
    "    get_session_history,\n"
    '    input_messages_key="input",\n'
    '    history_messages_key="history",\n'
    ")\n\n\n"
    "def reply({params}):\n"
    '    return chain.invoke({{"input": text}}, '
    'config={{"configurable": {{"session_id": {key}}}}})\n'
)


class LegacyConversationChain(PlannedEdits):
    RULE = LEGACY_CONVERSATION_CHAIN
    MESSAGE = "{kind} {name!r} keeps its history in a legacy memory removed from current LangChain"

    VALID = [
        # No memory: a stateless LLMChain is another migration, not a memory bug.
        Valid(
            "from langchain.chains import LLMChain\n\n"
            "chain = LLMChain(llm=llm, prompt=prompt)\n"
            'print(chain.run("hi"))\n'
        ),
        # Same class name, not LangChain's.
        Valid(
            "from mylib.chains import ConversationChain\n\n"
            "chain = ConversationChain(llm=llm, memory=memory)\n"
            'print(chain.predict(input="hi"))\n'
        ),
    ]
    INVALID = [
        Invalid(
            _reply("user_id: str, text: str", "chain.predict(input=text)"),
            expected=_MIGRATED.format(
                extra="", constant="", params="user_id: str, text: str", key="user_id"
            ),
        ),
        # The whole result dict was returned; now the answer text is: unsafe.
        Invalid(
            _reply("text: str", 'chain.invoke({"input": text})'),
            expected=_MIGRATED.format(
                extra="import os\n",
                constant=(
                    "# One conversation per process, as the memory kept; "
                    "set $CHAT_SESSION_ID to pick one.\n"
                    'SESSION_ID = os.environ.get("CHAT_SESSION_ID", "default")\n'
                ),
                params="text: str",
                key="SESSION_ID",
            ),
            flags=("--unsafe-fixes",),
        ),
        Invalid(_reply("text: str", 'chain.invoke({"input": text})'), expected=None),
        # A summary memory calls the model to rewrite the history: reported, not rewritten.
        Invalid(
            _reply(
                "text: str", "chain.predict(input=text)", "ConversationSummaryMemory(llm=llm)"
            ).replace("import ConversationBufferMemory", "import ConversationSummaryMemory"),
            expected=None,
        ),
    ]

    def visit_Module(self, node: cst.Module) -> bool:
        self.module = node
        self.reach = Reach(self, node)
        self.web = bool(imported_frameworks(self))
        self.taken = set(bindings(node.body)[0])
        self.agent = self.context.settings.target is Target.AGENT
        self.graph = self.agent or self.context.settings.target is Target.LANGGRAPH
        self.reuse = not self.graph and any(
            isinstance(s, cst.FunctionDef) and s.name.value == new.FACTORY for s in node.body
        )
        self._references: dict[str, list[cst.Name]] | None = None  # read on first use
        self.applied: list[_Plan] = []
        for found in findall(node, m.Call()):
            call = cst.ensure_type(found, cst.Call)
            kind = self.reach.class_of(call.func)
            if kind == "ConversationChain" or (
                kind == "LLMChain" and argument(call, "memory") is not None
            ):
                self._consider(call, kind)
        # Decided here, on the original nodes; with nothing planned, no need to walk the tree.
        return bool(self.edits)

    @property
    def references(self) -> dict[str, list[cst.Name]]:
        """Every read or binding of each name of the module (one walk, when first asked)."""
        if self._references is None:
            self._references = new.references(self.module)
        return self._references

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self.applied:
            return updated_node
        module = new.inserted(updated_node, self._sources())
        removed = frozenset().union(*(p.removed for p in self.applied))
        module = new.modernized(without_unused_names(module, removed))
        needed = self._agent_imports() if self.agent else self._chain_imports()
        return new.spaced_like(updated_node, new.with_imports(module, needed))

    def _sources(self) -> list[str]:
        """The module-level code the migrated chains share: prompt, key, factory or graph."""
        sources: list[str] = []
        prompt = next((p.default_prompt for p in self.applied if p.default_prompt), None)
        if prompt is not None:
            sources.append(f"{new.PROMPT_CONSTANT} = {prompt}\n")
        if any(p.uses_constant for p in self.applied):
            sources.append(new.SESSION_SOURCE)
        if self.agent:
            sources.append(new.AGENT_CHECKPOINTER_SOURCE)
            if any(p.windowed for p in self.applied):
                sources.append(new.WINDOW_SOURCE)
        elif self.graph:
            sources.append(new.GRAPH_SOURCE)
        elif not self.reuse:
            sources.append(new.FACTORY_SOURCE)
        return sources

    def _chain_imports(self) -> list[tuple[str, str | None]]:
        """What the rwmh and langgraph targets' code imports."""
        constant = any(p.uses_constant for p in self.applied)
        needed: list[tuple[str, str | None]] = [("os", None)] if constant else []
        if self.graph:
            needed += new.GRAPH_IMPORTS
        elif not self.reuse:
            needed += [("langchain_core.chat_history", "BaseChatMessageHistory")]
            needed += [("langchain_core.chat_history", "InMemoryChatMessageHistory")]
        needed.append(("langchain_core.output_parsers", "StrOutputParser"))
        if any(p.converted for p in self.applied):
            needed += [
                ("langchain_core.prompts", n) for n in ("ChatPromptTemplate", "MessagesPlaceholder")
            ]
        if not self.graph:
            needed.append(("langchain_core.runnables.history", "RunnableWithMessageHistory"))
        return needed

    def _agent_imports(self) -> list[tuple[str, str | None]]:
        needed: list[tuple[str, str | None]] = []
        if any(p.uses_constant for p in self.applied):
            needed.append(("os", None))
        needed += new.AGENT_IMPORTS
        if any(p.windowed for p in self.applied):
            needed += new.WINDOW_IMPORTS
        if any(p.summarized for p in self.applied):
            needed += new.SUMMARY_IMPORTS
        return needed

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parent(node)

    def _consider(self, call: cst.Call, kind: str) -> None:
        above = self._parent(call)
        name: str | None = None
        shown = "inline"
        if isinstance(above, cst.Assign) and len(above.targets) == 1:
            target = above.targets[0].target
            shown = _code(target)
            if isinstance(target, cst.Name) and self.reach.values.get(target.value) is call:
                name = target.value
        message = self.MESSAGE.format(kind=kind, name=shown)
        try:
            if name is None:
                raise _Declined("it is not bound once to a name, so its runs cannot be followed")
            plan = self._plan(call, kind, name, above)
        except _Deferred:
            return
        except _Declined as why:
            self.report(call, f"{message}; {why}", fixed=False)
            return
        unsafe = self.context.settings.unsafe_fixes
        if plan.unsafe:
            message += "; its callers now receive the answer text, not the result dict"
        fixed = unsafe or not plan.unsafe
        if not self.report(call, message, fixed=fixed, fix=Fix.UNSAFE if plan.unsafe else None):
            return
        if fixed:
            self.applied.append(plan)
            for node, edit in plan.edits:
                self.plan(node, edit)

    def _plan(self, call: cst.Call, kind: str, name: str, assign: cst.CSTNode | None) -> _Plan:
        llm = _llm_of(call)
        edits: list[tuple[cst.CSTNode, Edit]] = []
        removed = {kind}
        history, window, memory_input, summary = self._memory(call, edits, removed)
        if self.agent:
            user, system = self._system_prompt(call, kind, history, edits, removed)
            prompt, default_prompt = "", None
        else:
            user, prompt, default_prompt = self._prompt(call, kind, history, window, edits, removed)
        if memory_input not in (None, user):
            raise _Deferred(f"its memory saves {memory_input!r}, not the input {user!r}")
        out = argument(call, "output_key")
        output = "response" if kind == "ConversationChain" else "text"
        output = output if out is None else self._literal(out.value, "output_key")
        if self.agent:
            self._chat_model(llm.value)
            replacement, added = _agent_replacement(llm.value, system, window, summary)
        else:
            replacement, added = self._chain_replacement(prompt, llm.value, user, history)
        edits.append((call, _replaced_by(replacement)))
        if added & self.taken:
            raise _Declined(f"the names {' or '.join(map(repr, sorted(added)))} are taken")
        uses = [r for r in self.references.get(name, []) if r is not _target(assign)]
        if not uses:
            raise _Declined("it is not run in this module, so its callers cannot be rewritten")
        unsafe = constant = False
        for reference in uses:
            function = self._function(reference)
            use = new.classify_use(
                reference,
                self._parent,
                user=user,
                output=output,
                function=function,
                module=self.module,
            )
            if isinstance(use, new.Unmigrated):
                raise (_Deferred if use.deferred else _Declined)(use.reason)
            if use.changes_type:
                followed = self._followed(use.outer, function, output)
                if followed is not None:
                    edits.extend(followed)
                    use = replace(use, changes_type=False)
            key = self._key(function)
            constant |= key == new.SESSION_CONSTANT
            unsafe |= use.changes_type
            column = self.position(use.outer).column
            text = use.text(name, key, column, graph=self.graph, agent=self.agent)
            edits.append((use.outer, _replaced_by(text)))
            if use.changes_type and isinstance(self._parent(use.outer), cst.Return) and function:
                edits.extend(self._result_reads(function, output))
        return _Plan(
            default_prompt,
            tuple(edits),
            frozenset(removed),
            converted=default_prompt is not None or "PromptTemplate" in removed,
            uses_constant=constant,
            unsafe=unsafe,
            windowed=self.agent and window is not None,
            summarized=summary is not None,
        )

    def _chain_replacement(
        self, prompt: str, llm: cst.BaseExpression, user: str, history: str
    ) -> tuple[str, set[str]]:
        """The runnable that replaces the chain, and the module names it adds."""
        runnable = f"{prompt} | {_code(llm)} | StrOutputParser()"
        if self.graph:
            return new.graph(runnable, user, history), {new.GRAPH, new.CHECKPOINTER}
        added = set() if self.reuse else {new.STORE, new.FACTORY}
        return new.wrapper(runnable, new.FACTORY, user, history), added

    def _chat_model(self, model: cst.BaseExpression) -> None:
        """Refuse a completion model: an agent answers with a chat model only."""
        value = self.reach.resolve(model)
        kind = self.reach.class_of(value.func) if isinstance(value, cst.Call) else None
        if kind in _COMPLETIONS:
            raise _Declined(f"{kind} is a completion model: create_agent needs a chat model")

    def _system_prompt(
        self,
        call: cst.Call,
        kind: str,
        history: str,
        edits: list[tuple[cst.CSTNode, Edit]],
        removed: set[str],
    ) -> tuple[str, str | None]:
        """The input key and the agent's system text (None: no system text)."""
        user = self._input_key(call)
        arg = argument(call, "prompt")
        if arg is None:
            if (history, user) != ("history", "input"):
                raise _Deferred("its memory and input keys do not match its default prompt")
            parts = new.split_template(new.DEFAULT_TEMPLATE, history, user)
            return user, None if parts is None else parts[0]
        prompt = self.reach.resolve(arg.value)
        func = prompt.func if isinstance(prompt, cst.Call) else None
        owner = func.value if isinstance(func, cst.Attribute) else func
        if (
            not isinstance(prompt, cst.Call)
            or owner is None
            or self.reach.class_of(owner) != "PromptTemplate"
        ):
            raise _Declined(
                "its prompt is not a PromptTemplate built in this module: give create_agent "
                "its system_prompt= by hand"
            )
        user, parts = self._template_parts(prompt, func, kind, user, history)
        if parts[1] != "{" + user + "}":
            raise _Declined(
                f"its prompt wraps the input in {parts[1]!r}: the agent receives the "
                "user's text as it is"
            )
        removed.add("PromptTemplate")
        if isinstance(arg.value, cst.Name):
            edits.append((self._statement(arg.value.value, prompt, "prompt"), _removed))
        return user, parts[0] or None

    def _result_reads(
        self, function: cst.FunctionDef, output: str
    ) -> list[tuple[cst.CSTNode, Edit]]:
        """`f(x)[output]` reads of a function that returned the result dict: now `f(x)`."""
        edits: list[tuple[cst.CSTNode, Edit]] = []
        for reference in self.references.get(function.name.value, []):
            call = self._parent(reference)
            if reference is function.name or not isinstance(call, cst.Call):
                continue
            read = self._parent(call)
            if isinstance(read, cst.Subscript) and read.value is call:
                if new.index_key(read) != output:
                    raise _Declined(f"the result of {function.name.value}() is read by another key")
                edits.append((read, _unsubscripted))
            else:
                edits.extend(self._followed(call, self._function(call), output) or [])
        return edits

    def _followed(
        self, result: cst.CSTNode, function: cst.FunctionDef | None, output: str
    ) -> list[tuple[cst.CSTNode, Edit]] | None:
        """The reads of a result dict bound to a name, each `name[output]` becoming `name`.

        None when the result is not bound (the caller sees the new type: unsafe). Raises
        _Declined when it is bound where its reads cannot all be followed: a fix that kept
        one `name[output]` would fail on the answer text.
        """
        bound = self._parent(result)
        binds = isinstance(bound, cst.AnnAssign | cst.NamedExpr | cst.AugAssign)
        if not binds and not isinstance(bound, cst.Assign):
            return None
        target = bound.targets[0].target if isinstance(bound, cst.Assign) else None
        if not isinstance(bound, cst.Assign) or len(bound.targets) != 1:
            target = None
        if not isinstance(target, cst.Name):
            raise _Declined("its result is bound where memfix cannot follow its reads")
        return self._subscript_reads(target, function, output)

    def _subscript_reads(
        self, target: cst.Name, function: cst.FunctionDef | None, output: str
    ) -> list[tuple[cst.CSTNode, Edit]] | None:
        """`name[output]` reads of the one binding `target`, as edits to `name`.

        None when `name` is only used whole (its users see the new type: unsafe).
        """
        name = target.value
        edits: list[tuple[cst.CSTNode, Edit]] = []
        whole = False
        for found in findall(function or self.module, m.Name(name)):
            if found is target:
                continue
            read = self._parent(found)
            if isinstance(read, _BINDINGS):
                raise _Declined(
                    f"its result {name!r} is bound again, so its reads cannot be followed"
                )
            if not isinstance(read, cst.Subscript) or read.value is not found:
                whole = True
                continue
            key = new.index_key(read)
            if key != output or isinstance(self._parent(read), cst.AssignTarget | cst.Del):
                raise _Declined(f"its result {name!r} is read as [{key!r}], not [{output!r}]")
            edits.append((read, _unsubscripted))
        if whole and edits:
            raise _Declined(
                f"its result {name!r} is read as [{output!r}] and used whole: no one shape "
                "keeps both working"
            )
        return edits or None

    def _memory(
        self, call: cst.Call, edits: list[tuple[cst.CSTNode, Edit]], removed: set[str]
    ) -> tuple[str, int | None, str | None, str | None]:
        """The history key, window (in messages), input key and an agent's summary middleware."""
        arg = argument(call, "memory")
        if arg is None:
            return "history", None, None, None  # ConversationChain makes a buffer of its own
        memory = self.reach.resolve(arg.value)
        kind = self.reach.class_of(memory.func) if isinstance(memory, cst.Call) else None
        if isinstance(memory, cst.Call) and kind is None:
            raise _Declined(
                f"its memory comes from {_code(memory.func)}(): give the new chain that "
                "memory's history (`.chat_memory`) as its session factory by hand"
            )
        if not isinstance(memory, cst.Call) or kind is None:
            raise _Declined("its memory is not built in this module")
        summary = self._summary(memory) if self.agent and kind in _SUMMARIES else None
        if kind not in _BUFFERS and summary is None:
            if kind in MEMORY_CLASSES:
                raise _Declined(
                    f"{kind} asks a model to summarise or extract from the conversation: "
                    "migrate it by hand (a LangGraph node that summarises), or keep it on "
                    "langchain_classic"
                )
            raise _Declined(f"its memory {kind} is not a LangChain buffer memory")
        keywords = {a.keyword.value for a in memory.args if a.keyword}
        allowed = _MEMORY_KEYWORDS if summary is None else _SUMMARY_KEYWORDS
        if any(a.keyword is None or a.star for a in memory.args) or keywords - allowed:
            if "chat_memory" in keywords:
                raise _Declined(
                    "its memory wraps chat_memory=: pass a factory of that history to "
                    "RunnableWithMessageHistory by hand"
                )
            what = sorted(keywords - allowed) or ["positional arguments"]
            raise _Declined(f"its memory takes {what[0]}, which migrates by hand")
        key_arg = argument(memory, "memory_key")
        history = "history" if key_arg is None else self._literal(key_arg.value, "memory_key")
        window = None
        if kind == "ConversationBufferWindowMemory":
            k = argument(memory, "k")
            window = 2 * (5 if k is None else self._integer(k.value))
        input_arg = argument(memory, "input_key")
        user = None if input_arg is None else self._literal(input_arg.value, "input_key")
        removed.add(kind)
        if isinstance(arg.value, cst.Name):
            edits.append((self._statement(arg.value.value, memory, "memory"), _removed))
        return history, window, user, summary

    def _summary(self, memory: cst.Call) -> str:
        """The SummarizationMiddleware that does what this summary memory did."""
        llm = argument(memory, "llm")
        if llm is None:
            raise _Declined("its summary memory has no llm= to summarise with")
        limit = argument(memory, "max_token_limit")
        tokens = (
            new.SUMMARY_TOKENS if limit is None else self._integer(limit.value, "max_token_limit")
        )
        return new.summary_middleware(_code(llm.value), tokens)

    def _prompt(
        self,
        call: cst.Call,
        kind: str,
        history: str,
        window: int | None,
        edits: list[tuple[cst.CSTNode, Edit]],
        removed: set[str],
    ) -> tuple[str, str, str | None]:
        """The input key, the prompt expression, and the default prompt's source if used."""
        user = self._input_key(call)
        arg = argument(call, "prompt")
        if arg is None:
            if (history, user) != ("history", "input"):
                raise _Deferred("its memory and input keys do not match its default prompt")
            system, human = new.split_template(new.DEFAULT_TEMPLATE, history, user) or ("", "")
            taken = new.PROMPT_CONSTANT in self.taken
            source = new.chat_prompt(system, human, history, window)
            others = {p.default_prompt for p in self.applied} - {None, source}
            if taken or others:
                raise _Declined(f"the name {new.PROMPT_CONSTANT!r} is taken")
            return user, new.PROMPT_CONSTANT, source
        prompt = self.reach.resolve(arg.value)
        func = prompt.func if isinstance(prompt, cst.Call) else None
        owner = func.value if isinstance(func, cst.Attribute) else func
        prompt_kind = None if owner is None else self.reach.class_of(owner)
        if not isinstance(prompt, cst.Call) or prompt_kind not in {
            "PromptTemplate",
            "ChatPromptTemplate",
        }:
            raise _Declined("its prompt is not built in this module")
        if prompt_kind == "ChatPromptTemplate":
            found = self.reach.prompt(prompt)
            if found is None or history not in found.placeholders:
                raise _Declined(f"its chat prompt has no MessagesPlaceholder({history!r})")
            if window is not None:
                raise _Declined(
                    f"its window would be lost: give MessagesPlaceholder({history!r}) "
                    f"n_messages={window}"
                )
            inputs = found.required - {history}
            user = self._input(kind, user, inputs)
            return user, _code(arg.value), None
        user, parts = self._template_parts(prompt, func, kind, user, history)
        removed.add("PromptTemplate")
        if isinstance(arg.value, cst.Name):
            self._statement(arg.value.value, prompt, "prompt")
            source = new.chat_prompt(*parts, history, window)
            edits.append((prompt, _replaced_by(source)))
            return user, arg.value.value, None
        return user, new.chat_prompt(*parts, history, window, indent="    "), None

    def _input_key(self, call: cst.Call) -> str:
        """The chain's `input_key=`, or the default `input`."""
        key_arg = argument(call, "input_key")
        return "input" if key_arg is None else self._literal(key_arg.value, "input_key")

    def _template_parts(
        self,
        prompt: cst.Call,
        func: cst.BaseExpression | None,
        kind: str,
        user: str,
        history: str,
    ) -> tuple[str, tuple[str, str]]:
        """The input key and the (system, human) text of a PromptTemplate built here."""
        template = argument(prompt, "template", 0 if isinstance(func, cst.Attribute) else None)
        text = None if template is None else self.reach.string(template.value)
        if text is None or argument(prompt, "template_format") is not None:
            raise _Declined("its prompt's template is not a literal f-string template")
        user = self._input(kind, user, (template_variables(text) or frozenset()) - {history})
        parts = new.split_template(text, history, user)
        if parts is None:
            raise _Declined(f"its prompt does not read {history!r} then {user!r} alone")
        return user, parts

    def _input(self, kind: str, user: str, inputs: frozenset[str]) -> str:
        if kind == "LLMChain" and len(inputs) == 1:
            return next(iter(inputs))
        if inputs != {user}:
            raise _Deferred(f"its prompt reads {sorted(inputs)}, not the input {user!r} alone")
        return user

    def _statement(self, name: str, value: cst.CSTNode, what: str) -> cst.CSTNode:
        """The `name = value` statement, when the chain is the only thing that reads `name`."""
        if len(self.references.get(name, [])) != 2:
            instead = " (read get_session_history(key) instead)" if what == "memory" else ""
            raise _Declined(f"{what} {name!r} is also used outside the chain{instead}")
        assign = self._parent(value)
        statement = None if assign is None else self._parent(assign)
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            raise _Declined(f"{what} {name!r} is not bound by a statement of its own")
        return statement

    def _function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        above = self._parent(node)
        while above is not None and not isinstance(above, cst.FunctionDef):
            above = self._parent(above)
        return above

    def _key(self, function: cst.FunctionDef | None) -> str:
        """The session key a run in `function` (None: at module level) uses."""
        if function is not None:
            identity = find_identity_in_module(
                function, self.module, session_key=self.context.settings.session_key
            )
            if identity is not None:
                return identity.expression
        if self.web:
            where = f"{function.name.value}()" if function else "module level"
            raise _Declined(
                f"no session identity is in reach at {where}: one key would give every user "
                "of the app one conversation"
            )
        if new.SESSION_CONSTANT in self.taken:
            raise _Declined(f"the name {new.SESSION_CONSTANT!r} is taken")
        return new.SESSION_CONSTANT

    def _literal(self, node: cst.BaseExpression, what: str) -> str:
        text = self.reach.string(node)
        if text is None:
            raise _Declined(f"its {what} is not a literal")
        return text

    def _integer(self, node: cst.BaseExpression, what: str = "window k") -> int:
        """A literal number, or a name bound once (never again) to one; else _Declined."""
        value = self.reach.resolve(node)
        if isinstance(value, cst.Integer) and int(value.value) > 0:
            return int(value.value)
        raise _Declined(f"its {what} is not a literal number")


def _target(assign: cst.CSTNode | None) -> cst.CSTNode | None:
    return assign.targets[0].target if isinstance(assign, cst.Assign) else None


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _llm_of(call: cst.Call) -> cst.Arg:
    """The chain's `llm=` argument; raises _Declined when the call cannot be migrated."""
    if any(arg.keyword is None or arg.star for arg in call.args):
        raise _Declined("it takes positional arguments")
    extra = {arg.keyword.value for arg in call.args if arg.keyword} - _CHAIN_KEYWORDS
    if extra:
        raise _Declined(f"{sorted(extra)[0]}= has no counterpart on the migrated chain")
    llm = argument(call, "llm")
    if llm is None:
        raise _Declined("it has no llm=")
    return llm


def _agent_replacement(
    llm: cst.BaseExpression, system: str | None, window: int | None, summary: str | None
) -> tuple[str, set[str]]:
    """The `create_agent(...)` that replaces the chain, and the module names it adds."""
    middleware = [f"{new.WINDOW}({window + 1})"] if window is not None else []
    middleware += [summary] if summary is not None else []
    added = {new.CHECKPOINTER} | ({new.WINDOW} if window is not None else set())
    return new.agent(_code(llm), system, middleware), added
