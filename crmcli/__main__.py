from crmcli.cli.main import main

main()
