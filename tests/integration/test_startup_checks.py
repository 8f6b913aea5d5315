"""Start-up checks that redis-server makes after reading its configuration, compared with the
oracle: a log file that cannot be opened is a fatal configuration error (exit code 1, Redis's
report), not an abort and not a directory created on the way."""

import os
import unittest

from keyward_harness import (REDIS_SERVER, free_port, keyward_binary, make_workdir,
                             startup_failure)


class LogFile(unittest.TestCase):
    def check(self, logfile):
        results = []
        for binary in (REDIS_SERVER, keyward_binary()):
            d = make_workdir()
            results.append(startup_failure(
                binary, ["--port", str(free_port()), "--logfile", logfile(d)], d))
        (redis_rc, redis_out), (keyward_rc, keyward_out) = results
        self.assertEqual(redis_rc, 1, redis_out)
        self.assertEqual(keyward_rc, 1, keyward_out)
        self.assertEqual(keyward_out, redis_out)

    def test_log_file_is_a_directory(self):
        self.check(lambda d: d)

    def test_log_file_in_a_missing_directory(self):
        self.check(lambda d: os.path.join(d, "missing", "server.log"))
        # Nothing was created on the way.
        d = make_workdir()
        startup_failure(keyward_binary(), ["--port", str(free_port()), "--logfile",
                                           os.path.join(d, "missing", "server.log")], d)
        self.assertFalse(os.path.exists(os.path.join(d, "missing")))


if __name__ == "__main__":
    unittest.main()
