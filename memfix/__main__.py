from memfix.cli import main

main()
