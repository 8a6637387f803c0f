"""The core runs a command end to end on every backend."""


def test_help_lists_visit_commands(chat):
    answer = chat.text("alice", "help visit")
    assert "visit request" in answer and "visit approve" in answer
