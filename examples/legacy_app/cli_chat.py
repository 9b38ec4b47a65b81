"""Ask the support bot from a terminal."""

from langchain_openai import ChatOpenAI
from langchain.memory import ConversationBufferMemory
from langchain.chains import ConversationChain


def ask(question: str):
    llm = ChatOpenAI(model="gpt-4o-mini")
    memory = ConversationBufferMemory()
    chain = ConversationChain(llm=llm, memory=memory)
    return chain.invoke({"input": question})


if __name__ == "__main__":
    print(ask("My name is Sam")["response"])
    print(ask("What's my name?")["response"])
