"""The CLI under a pipe whose reader has gone (`ganforge models | head -0`)."""
import subprocess
import sys


def test_a_closed_pipe_stops_quietly_with_the_sigpipe_status():
    p = subprocess.Popen([sys.executable, "-m", "ganforge", "models"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdout.close()   # the reader goes before the first line is written (the import takes far longer)
    err = p.stderr.read()
    assert p.wait() == 141, err
    assert err == ""
