from runway.cli import main

main()
