DROP INDEX enterprises_private_owner;
