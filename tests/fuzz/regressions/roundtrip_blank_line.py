from langchain.memory import ConversationBufferMemory
A

 