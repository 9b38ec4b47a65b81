"""Two- and three-module apps: a memory or chain in one module, routes in another."""

from __future__ import annotations

MEMORY = (
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n"
    "\n"
    "llm = ChatOpenAI()\n"
    "memory = ConversationBufferMemory()\n"
    "chain = ConversationChain(llm=llm, memory=memory)\n"
)
MEMORY_FIXED = (
    "from langchain.chains import ConversationChain\n"
    "from langchain.memory import ConversationBufferMemory\n"
    "from langchain_openai import ChatOpenAI\n"
    "\n"
    "llm = ChatOpenAI()\n"
    "_chain_by_session = {}\n"
    "\n"
    "\n"
    "def get_session_chain(session_id: str):\n"
    "    if session_id not in _chain_by_session:\n"
    "        memory = ConversationBufferMemory()\n"
    "        _chain_by_session[session_id] = ConversationChain(llm=llm, memory=memory)\n"
    "    return _chain_by_session[session_id]\n"
)
FASTAPI_ROUTES = (
    "from fastapi import FastAPI\n"
    "\n"
    "from app.memory import chain\n"
    "\n"
    "app = FastAPI()\n"
    "\n"
    "\n"
    '@app.post("/chat")\n'
    "def chat(user_id: str, message: str):\n"
    '    return {"reply": chain.predict(input=message)}\n'
)
FASTAPI_ROUTES_FIXED = (
    "from fastapi import FastAPI\n"
    "\n"
    "from app.memory import get_session_chain\n"
    "\n"
    "app = FastAPI()\n"
    "\n"
    "\n"
    '@app.post("/chat")\n'
    "def chat(user_id: str, message: str):\n"
    "    chain = get_session_chain(user_id)\n"
    '    return {"reply": chain.predict(input=message)}\n'
)
FLASK_MEMORY = (
    "from langchain.memory import ConversationBufferMemory\n\nmemory = ConversationBufferMemory()\n"
)
FLASK_MEMORY_FIXED = (
    "from langchain.memory import ConversationBufferMemory\n"
    "\n"
    "_memory_by_session = {}\n"
    "\n"
    "\n"
    "def get_session_memory(session_id: str):\n"
    "    if session_id not in _memory_by_session:\n"
    "        _memory_by_session[session_id] = ConversationBufferMemory()\n"
    "    return _memory_by_session[session_id]\n"
)
FLASK_ROUTES = (
    "from flask import Flask, jsonify, request\n"
    "from langchain.chains import ConversationChain\n"
    "from langchain_openai import ChatOpenAI\n"
    "\n"
    "from .memory import memory\n"
    "\n"
    "app = Flask(__name__)\n"
    "\n"
    "\n"
    '@app.route("/chat", methods=["POST"])\n'
    "def chat():\n"
    '    user_id = request.json["user_id"]\n'
    "    chain = ConversationChain(llm=ChatOpenAI(), memory=memory)\n"
    '    return jsonify({"reply": chain.predict(input=request.json["message"]), "user": user_id})\n'
)
FLASK_ROUTES_FIXED = FLASK_ROUTES.replace(
    "from .memory import memory\n", "from .memory import get_session_memory\n"
).replace(
    "def chat():\n",
    'def chat():\n    memory = get_session_memory(request.json["user_id"])\n',
)
