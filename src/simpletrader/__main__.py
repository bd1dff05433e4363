from simpletrader.cli import main

main()
