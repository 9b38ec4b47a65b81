"""The support chain shared by the email and chat channels."""

from langchain.chains import ConversationChain
from langchain.memory import ConversationBufferMemory
from langchain.prompts import PromptTemplate
from langchain_openai import ChatOpenAI

TEMPLATE = """You are Acme's support assistant. Be brief and friendly.

Conversation so far:
{history}

Customer: {input}
Assistant:"""

prompt = PromptTemplate(input_variables=["history", "input"], template=TEMPLATE)
memory = ConversationBufferMemory(memory_key="chat_history")
chain = ConversationChain(llm=ChatOpenAI(temperature=0), memory=memory, prompt=prompt)


def answer_email(text: str) -> str:
    return chain.run({"question": text})


def answer_chat(text: str) -> str:
    return chain.predict(question=text)
