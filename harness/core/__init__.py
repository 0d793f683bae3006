"""The core: configuration, the clock, the words of both languages, scenarios and the question
bank, and the account rules. Nothing here touches the database or the network.
"""
