WHO = "only_second from pyclash/1"
