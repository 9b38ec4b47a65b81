"""Streamlit front end for the support bot."""

import streamlit as st
from langchain.chains import ConversationChain
from langchain.memory import ConversationBufferMemory
from langchain_openai import ChatOpenAI

st.title("Acme support")

llm = ChatOpenAI(model="gpt-4o-mini")
memory = ConversationBufferMemory()
conversation = ConversationChain(llm=llm, memory=memory)

if prompt := st.chat_input("Ask a question"):
    st.chat_message("user").write(prompt)
    st.chat_message("assistant").write(conversation.predict(input=prompt))
