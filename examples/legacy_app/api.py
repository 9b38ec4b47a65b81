"""HTTP endpoint for the support widget."""

from fastapi import FastAPI
from pydantic import BaseModel
from langchain.chains import ConversationChain
from langchain.memory import ConversationBufferMemory
from langchain_openai import ChatOpenAI

app = FastAPI(title="Acme support")


class ChatRequest(BaseModel):
    user_id: str
    message: str


@app.post("/chat")
async def chat(req: ChatRequest):
    llm = ChatOpenAI(model="gpt-4o-mini", temperature=0)
    memory = ConversationBufferMemory()
    conversation = ConversationChain(llm=llm, memory=memory)
    answer = conversation.predict(input=req.message)
    return {"user_id": req.user_id, "answer": answer}
