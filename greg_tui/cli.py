def main() -> None:
    print("greg-tui")
