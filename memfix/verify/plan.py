"""One app module's test plan: its entry points, the chat models to swap for the fake,
the environment it reads, and where its history is kept."""

from __future__ import annotations

import ast

from memfix.model.names import Tree, dotted, string
from memfix.model.types import Lifetime, ModuleModel
from memfix.verify.entries import entry_points
from memfix.verify.types import ModulePlan, Persistence

# Names of chat models and chat model factories the fake stands in for.
_FACTORIES = frozenset({"init_chat_model"})
_SERVERS = ("Redis", "Postgres", "Mongo", "DynamoDB", "Elasticsearch", "Cassandra", "Upstash")
_SERVER_ENV = {
    "Redis": "REDIS_URL",
    "Postgres": "DATABASE_URL",
    "Mongo": "MONGODB_URL",
}
_STORE_KINDS = frozenset({"dict", "defaultdict", "setdefault", "class-attribute"})
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")
# The names users give in the tests: the first two the module's own text never mentions,
# so a demo turn the module runs when imported cannot be mistaken for the test's.
_NAMES = ("Sam", "Ottoline", "Barnaby", "Wilhelmina", "Peregrine", "Clementine")


def plan_module(
    text: str, path: str, module: str, model: ModuleModel, history_env: str
) -> ModulePlan:
    """The test plan of one module whose text is `text`, imported as `module`.

    `history_env` is the variable a persistent history's address is read from once
    memfix has fixed the module (`[tool.memfix] history-url-env`).
    """
    tree = Tree(text)
    driven, undriven = entry_points(tree, model)
    persistence = persistence_of(model, history_env, environment_reads(tree))
    return ModulePlan(
        module=module,
        path=path,
        entries=tuple(driven),
        undriven=tuple(undriven),
        models=chat_models(tree),
        legacy=legacy_imports(tree),
        env=environment(tree, history_env),
        persistence=persistence,
        names=_names(text),
    )


def chat_models(tree: Tree) -> tuple[tuple[str, str], ...]:
    """(module, name) of every chat model class or factory the module imports."""
    found: dict[tuple[str, str], None] = {}
    for qualname in tree.imports.values():
        module, _, name = qualname.rpartition(".")
        if not module.partition(".")[0].startswith("langchain") or module.startswith(
            "langchain_core"
        ):
            continue
        if name.startswith("Chat") or "Chat" in name[1:] or name in _FACTORIES:
            if name.endswith(("ChatMessageHistory", "PromptTemplate", "Chain")):
                continue
            found[(module, name)] = None
    return tuple(found)


def legacy_imports(tree: Tree) -> tuple[str, ...]:
    """The `langchain.*` modules the module imports from (moved in LangChain 1.0)."""
    found: dict[str, None] = {}
    for node in ast.walk(tree.module):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and not node.level
            and node.module.startswith("langchain.")
        ):
            found[node.module] = None
    return tuple(found)


def environment_reads(tree: Tree) -> dict[str, bool]:
    """Environment variables the module reads: name -> whether it gives a default."""
    found: dict[str, bool] = {}
    for node in ast.walk(tree.module):
        if isinstance(node, ast.Call) and node.args:
            name = dotted(node.func) or ""
            if name.endswith(("getenv", "environ.get")) and string(node.args[0]):
                found[string(node.args[0]) or ""] = len(node.args) > 1
        elif isinstance(node, ast.Subscript) and (dotted(node.value) or "").endswith("environ"):
            key = string(node.slice)
            if key:
                found.setdefault(key, False)
    return found


def environment(tree: Tree, history_env: str) -> tuple[tuple[str, str], ...]:
    """Harmless values for what the module reads; a history address inside the test's folder.

    `{workdir}` in a value is the test's own temporary folder.
    """
    values = {"OPENAI_API_KEY": "test", history_env: "sqlite:///{workdir}/chat_history.db"}
    for name, has_default in environment_reads(tree).items():
        if name in values:
            continue
        secret = any(word in name.upper() for word in _SECRET_WORDS)
        # An address without a default is left unset: "test" would only fail differently.
        if secret or not (has_default or name.upper().endswith(("_URL", "_URI", "_DSN"))):
            values[name] = "test"
    return tuple(values.items())


def persistence_of(
    model: ModuleModel, history_env: str, reads: dict[str, bool]
) -> Persistence | None:
    """Where the module keeps its histories between turns, when that is a store at all."""
    states = [
        state
        for conversation in model.conversations
        for state in (conversation.runnable, *conversation.state)
    ]
    for state in states:
        name = state.qualname.rpartition(".")[2]
        server = next((word for word in _SERVERS if word in name), None)
        if server is not None and state.kind in ("history", "checkpointer"):
            env = _SERVER_ENV.get(server, f"{server.upper()}_URL")
            env = next((read for read in reads if read.upper().endswith(env)), env)
            return Persistence("server", name, env)
        if state.lifetime is Lifetime.PERSISTENT:
            return Persistence("file", name, history_env)
    for conversation in model.conversations:
        store = conversation.store
        if store is not None and store.kind in _STORE_KINDS:
            return Persistence("process", f"the {store.kind} `{store.name}`", history_env)
    return None


def _names(text: str) -> tuple[str, str]:
    free = [name for name in _NAMES if name not in text]
    return (free[0], free[1]) if len(free) > 1 else ("Zephyrine-4821", "Quillon-7306")
